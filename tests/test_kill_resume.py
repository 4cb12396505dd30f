"""Kill anywhere, resume, same result: a run SIGKILLed at several points (mid-epoch, while
writing a checkpoint, during validation) and resumed with ``--resume`` each time ends with the
weights, optimizer, queue, sampler position and logged losses of an uninterrupted run."""
import glob
import json
import os
import random
import subprocess
import sys

import pytest
import torch

from _utils import REPO, small_cfg

CASES = {
    # the CIFAR configs' batched augmentation draws in the main process: exact with workers too
    'ce-2workers': ('decoupled/ce_resnet32_1xb128-200e_cifar10-lt-r100.py', 2),
    'dscl-pbsd': ('dscl/dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100.py', 0),
    # random crop + flip per image in 2 worker processes: exact through the samplers' per-sample
    # seeds (SeededIndex), which depend on (seed, epoch, position) only
    'ce-per-image-2workers': ('decoupled/ce_resnet32_1xb128-200e_cifar10-lt-r100_per-image.py', 2),
}


def _config(name, work_dir, data_root):
    config, workers = CASES[name]
    cfg = small_cfg(config, work_dir, data_root, num_images=64, batch_size=16, max_epochs=3,
                    checkpoint_interval=2)  # 4 iterations an epoch, a checkpoint every 2
    cfg.default_hooks.checkpoint.max_keep_ckpts = 1  # only one good checkpoint at any time
    if cfg.get('val_dataloader'):
        cfg.train_cfg.val_interval = 1
        cfg.val_dataloader.dataset.indices = list(range(0, 64 * 8, 8))[:32]
    cfg.train_dataloader.num_workers = workers
    if 'queue_len' in cfg.model:
        cfg.model.queue_len = 40  # wraps around within the run
    path = work_dir.parent / f'{work_dir.name}.py'
    cfg.dump(str(path))
    return path


def _launch(config, work_dir, kill=None):
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    env.pop('MMLT_KILL', None)
    if kill:
        env['MMLT_KILL'] = kill
    return subprocess.run([sys.executable, str(REPO / 'tests' / '_kill_train.py'), str(config),
                           '--work-dir', str(work_dir), '--resume'], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)


def _losses(work_dir):
    """iteration -> logged training losses; a re-run iteration keeps its last record."""
    out = {}
    for path in sorted(glob.glob(str(work_dir / '*' / 'vis_data' / 'scalars.json'))):
        for line in open(path):
            rec = json.loads(line)
            if 'loss' in rec:
                out[rec['step']] = {k: v for k, v in rec.items() if k.startswith('loss')}
    return out


def _final(work_dir):
    with open(work_dir / 'last_checkpoint') as f:
        return torch.load(f.read().strip(), map_location='cpu', weights_only=False)


@pytest.mark.parametrize('name', list(CASES))
def test_killed_anywhere_resumes_to_the_same_run(name, tmp_path, cifar10_jpeg_root):
    ref_dir, cut_dir = tmp_path / 'ref', tmp_path / 'cut'
    done = _launch(_config(name, ref_dir, cifar10_jpeg_root), ref_dir)
    assert done.returncode == 0, done.stderr[-3000:]
    config = _config(name, cut_dir, cifar10_jpeg_root)
    validates = 'val_dataloader = dict(' in config.read_text()
    rng = random.Random(name)  # random kill points, reproducible
    kills = [f'iter:{rng.randrange(1, 4)}',  # mid-epoch, before the first checkpoint
             'save:2',                        # while writing a checkpoint (half written)
             f'eval:{rng.randrange(1, 3)}' if validates else 'iter:6',  # during validation
             f'iter:{rng.randrange(8, 11)}']
    for kill in kills:
        proc = _launch(config, cut_dir, kill)
        assert proc.returncode == -9, (kill, proc.stderr[-3000:])  # it really was killed
        for ckpt in glob.glob(str(cut_dir / '*.pth')):  # never a truncated one under its name
            torch.load(ckpt, map_location='cpu', weights_only=False)
    proc = _launch(config, cut_dir)
    assert proc.returncode == 0, proc.stderr[-3000:]

    ref, cut = _final(ref_dir), _final(cut_dir)
    assert ref['meta']['iter'] == cut['meta']['iter'] == 12
    for key, value in ref['state_dict'].items():  # weights, BN statistics, queue and its labels
        assert torch.equal(value, cut['state_dict'][key]), key
    opt_ref, opt_cut = ref['optimizer']['state'], cut['optimizer']['state']
    for i in opt_ref:
        for k, v in opt_ref[i].items():
            assert torch.equal(torch.as_tensor(v), torch.as_tensor(opt_cut[i][k])), (i, k)
    assert ref.get('sampler_state') == cut.get('sampler_state')
    assert _losses(ref_dir) == _losses(cut_dir) and len(_losses(ref_dir)) == 12
