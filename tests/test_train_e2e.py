"""End-to-end: the decoupled pipeline's configs train on real CIFAR-10-LT images on CPU."""
import os
import socket
import subprocess
import sys

import numpy as np
import torch
from mmengine.runner import Runner

from _utils import REPO, small_cfg

CE_CONFIG = 'decoupled/ce_resnet32_1xb128-200e_cifar10-lt-r100.py'


def _train(cfg):
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def test_stage1_ce_trains_and_evaluates(tmp_path, cifar10_jpeg_root):
    """A short real training: finite losses that fall; the LT metric reports Many/Medium/Few."""
    cfg = small_cfg(CE_CONFIG, tmp_path, cifar10_jpeg_root, num_images=256, max_epochs=4)
    runner = _train(cfg)
    losses = runner.message_hub.get_scalar('train/loss').data[0]
    iters = len(runner.train_dataloader)
    assert len(losses) == 4 * iters
    assert np.isfinite(losses).all()
    first, last = losses[:iters].mean(), losses[-iters:].mean()
    assert last < 0.8 * first, (first, last)

    metrics = runner.test()
    keys = {k.split('/')[-1] for k in metrics}
    assert {'top1', 'many', 'medium', 'few'} <= keys, metrics
    per_class = list(tmp_path.rglob('per_class_accuracy.csv'))
    assert per_class, 'the metric writes per-class accuracy into the work dir'


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_interrupted_then_resumed_run_ends_with_same_weights(tmp_path, cifar10_jpeg_root):
    """Resume from a mid-epoch checkpoint: sampler position, augmentation RNG, optimizer and
    weights continue exactly (the config's random crop + flip pipeline, in the main process)."""
    def cfg(work_dir):
        return small_cfg(CE_CONFIG, work_dir, cifar10_jpeg_root, num_images=128, batch_size=16,
                         max_epochs=2, checkpoint_interval=3)

    full = _train(cfg(tmp_path / 'full'))
    iters = len(full.train_dataloader)
    assert 3 < iters, 'the checkpoint at iteration 3 must be mid-epoch'

    resumed_cfg = cfg(tmp_path / 'resumed')
    resumed_cfg.resume = True
    resumed_cfg.load_from = str(tmp_path / 'full' / 'iter_3.pth')
    resumed = _train(resumed_cfg)

    assert resumed.iter == full.iter == 2 * iters
    full_state = full.model.state_dict()
    for name, value in resumed.model.state_dict().items():
        assert torch.equal(value, full_state[name]), name


def test_dist_train_two_gloo_processes(tmp_path, cifar10_jpeg_root):
    """``tools/dist_train.sh CONFIG 2`` runs two CPU processes (gloo) for a few iterations."""
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(_free_port()),
               OMP_NUM_THREADS='1')
    cmd = [
        'bash', str(REPO / 'tools' / 'dist_train.sh'), str(REPO / 'configs' / CE_CONFIG), '2',
        '--work-dir', str(tmp_path), '--no-validate', '--cfg-options',
        f'train_dataloader.dataset.data_root={cifar10_jpeg_root}',
        'train_dataloader.dataset.indices=64', 'train_dataloader.batch_size=8',
        'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
        'train_cfg.max_epochs=1', 'default_hooks.checkpoint.interval=1', 'param_scheduler=[]'
    ]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-5000:]
    assert 'Distributed launcher: pytorch' in log and 'Distributed training: True' in log, \
        log[-3000:]
    assert 'GPU number: 2' in log, log[-3000:]  # mmengine's name for the world size
    # 64 images, batch 8 per rank, 2 ranks: 4 iterations per epoch
    assert 'Epoch(train) [1][4/4]' in log, log[-3000:]
    assert (tmp_path / 'epoch_1.pth').exists()
