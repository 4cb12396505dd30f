"""Distributed equals single-process, at the level of the Runner and the project's configs.

Two gloo processes with batch B each train the same model as one process with batch 2B, on the
same real CIFAR-10-LT images, and end with the same weights, BatchNorm statistics, queue
contents and queue labels (to float tolerance), for

- cross-entropy with each of mmlt's samplers (instance-balanced, square-root, class-balanced,
  class-aware, progressively-balanced);
- DSCL + PBSD with its labelled queue;

and a 2-process DSCL + PBSD run killed mid-epoch and resumed ends exactly where the
uninterrupted 2-process run ends.

Why it holds: mmlt's samplers make one global draw per epoch and give rank r the global
positions r, r + W, ..., so the union of the ranks' batches is the single-process batch; each
sample's augmentation is seeded by its global position (``SeededIndex``), not by the process
that loads it; DDP averages the ranks' gradients of their mean losses, which is the gradient of
the global mean; ``AllReduceSyncBN`` normalises with the global batch statistics (the
single-process BatchNorm). What is NOT process-count invariant, by design: plain BatchNorm
(per-rank statistics), MoCo's shuffle-BN, DSCL's ``contrast_mode='batch_queue'`` (each query
also contrasts its own rank's batch), and the batched augmentation on the model's device (each
rank draws its own parameters); these tests switch them to their invariant counterparts.
"""
import os
import socket

import pytest
import torch
import torch.multiprocessing as mp
from mmengine.config import Config
from mmengine.runner import Runner

from _utils import small_cfg
from test_dscl_train import STAGE1, _stage1_cfg

CE_CONFIG = 'decoupled/ce_resnet32_1xb128-200e_cifar10-lt-r100_per-image.py'
GLOBAL_BATCH = 8
WORLD = 2
SAMPLERS = {
    'instance': dict(type='InstanceBalancedSampler'),
    'square-root': dict(type='SquareRootSampler'),
    'class-balanced': dict(type='ClassBalancedSampler'),
    # 24 samples per epoch like the others (its default epoch, max count x classes, is 60)
    'class-aware': dict(type='ClassAwareSampler', num_samples=24),
    'progressive': dict(type='ProgressiveBalancedSampler', total_epochs=2),
}
SYNC_BN = dict(type='AllReduceSyncBN')


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _no_eval(cfg):
    for name in ('val_dataloader', 'val_cfg', 'val_evaluator', 'test_dataloader', 'test_cfg',
                 'test_evaluator'):
        cfg[name] = None
    return cfg


def _ce_cfg(work_dir, root, sampler, batch_size):
    cfg = small_cfg(CE_CONFIG, work_dir, root, num_images=24, batch_size=batch_size,
                    max_epochs=2)
    cfg.train_dataloader.sampler = dict(SAMPLERS[sampler])
    cfg.model.backbone.update(depth=20, base_channels=4, norm_cfg=SYNC_BN)
    cfg.model.head.in_channels = 16
    # a small step: at lr 0.1 this 4-channel net on batches of 8 is chaotic (rounding-level
    # differences grow a thousandfold in one step) and any two summation orders part ways
    cfg.optim_wrapper.optimizer.lr = 0.01
    return _no_eval(cfg)


def _dscl_cfg(work_dir, root, batch_size, checkpoint_interval=None):
    cfg = _stage1_cfg(work_dir, root, per_class=4, batch_size=batch_size, max_epochs=2,
                      queue_len=16, momentum=0.5, checkpoint_interval=checkpoint_interval,
                      lr=0.002, config=STAGE1)  # small steps: see _ce_cfg
    cfg.model.backbone.norm_cfg = SYNC_BN
    cfg.model.shuffle_bn = False  # SyncBN instead: the keys see the global batch statistics
    cfg.model.head.contrast_mode = 'queue'  # own key + queue, no per-rank batch
    return _no_eval(cfg)


def _final_state(runner):
    model = runner.model.module if hasattr(runner.model, 'module') else runner.model
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _train(cfg):
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def _worker(rank, port, runs, out_dir, kill_rank0=None):
    """One rank: train every (name, config file) of ``runs`` in turn and save its final state.

    ``kill_rank0`` (``_kill_train`` spec, e.g. ``'iter:8'``): rank 0 SIGKILLs itself there.
    """
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port), RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(WORLD), OMP_NUM_THREADS='1')
    torch.set_num_threads(1)
    import mmlt  # noqa: F401
    from mmlt.utils.setup_env import adapt_cfg_to_device, init_cpu_dist
    if kill_rank0 and rank == 0:
        import _kill_train
        _kill_train.install(kill_rank0)
    init_cpu_dist('pytorch')
    try:
        for name, path in runs:
            cfg = Config.fromfile(path)
            cfg.launcher = 'pytorch'
            runner = _train(adapt_cfg_to_device(cfg))
            torch.save(_final_state(runner), os.path.join(out_dir, f'{name}_rank{rank}.pth'))
    finally:
        torch.distributed.destroy_process_group()


def _run_distributed(tmp_path, cfgs, kill_rank0=None):
    """Train every config of ``cfgs`` (name -> Config) with 2 gloo processes; the final states
    (checked equal on both ranks)."""
    runs = []
    for name, cfg in cfgs.items():
        path = tmp_path / f'{name}.py'
        cfg.experiment_name = f'{name}_dist'
        cfg.dump(str(path))
        runs.append((name, str(path)))
    mp.spawn(_worker, args=(_free_port(), runs, str(tmp_path), kill_rank0), nprocs=WORLD,
             join=True)
    out = {}
    for name in cfgs:
        ranks = [torch.load(tmp_path / f'{name}_rank{r}.pth', weights_only=False)
                 for r in range(WORLD)]
        for key, value in ranks[0].items():  # DDP keeps the ranks identical
            assert torch.equal(value, ranks[1][key]), f'{name}: ranks differ in {key}'
        out[name] = ranks[0]
    return out


def _assert_close_states(actual, expected, what, rtol=1e-4, atol=1e-5):
    assert set(actual) == set(expected), what
    for key, value in expected.items():
        if value.is_floating_point():
            torch.testing.assert_close(actual[key], value, rtol=rtol, atol=atol,
                                       msg=lambda m: f'{what}: {key}: {m}')
        else:
            assert torch.equal(actual[key], value), f'{what}: {key}'


def _assert_moved(state, initial, what):
    """The comparison means something: training changed the weights."""
    moved = [k for k, v in state.items()
             if v.is_floating_point() and k in initial and not torch.allclose(v, initial[k])]
    assert any(k.endswith('conv1.weight') for k in moved), f'{what}: the weights did not move'


def test_ce_two_processes_equal_one_with_each_sampler(tmp_path, cifar10_jpeg_root):
    """CE, batch 2 x 4 on 2 gloo processes vs 8 on 1, 2 epochs, every sampler."""
    single = {}
    for name in SAMPLERS:
        cfg = _ce_cfg(tmp_path / name / 'single', cifar10_jpeg_root, name, GLOBAL_BATCH)
        cfg.experiment_name = f'{name}_single'
        runner = _train(cfg)
        assert runner.iter == 2 * len(runner.train_dataloader) >= 4
        single[name] = _final_state(runner)
    initial = _final_state(Runner.from_cfg(_ce_cfg(
        tmp_path / 'init', cifar10_jpeg_root, 'instance', GLOBAL_BATCH)))
    dist = _run_distributed(tmp_path, {
        name: _ce_cfg(tmp_path / name / 'dist', cifar10_jpeg_root, name, GLOBAL_BATCH // WORLD)
        for name in SAMPLERS})
    for name in SAMPLERS:
        _assert_moved(single[name], initial, name)
        # the global-batch BatchNorm statistics were tracked, not the per-rank ones
        assert int(dist[name]['backbone.bn1.num_batches_tracked']) == \
            int(single[name]['backbone.bn1.num_batches_tracked']) > 0
        _assert_close_states(dist[name], single[name], name)


def _queue_order(num_slots, batch, world):
    """Slot order of a gathered queue: rank 0's keys then rank 1's, per enqueued batch.

    One process enqueues the global positions p, p+1, ..., p+batch-1 of a step in order; ranks
    hold the positions r, r + W, ... of it and all_gather puts rank 0's block first.
    """
    block = [r + i * world for r in range(world) for i in range(batch // world)]
    return torch.tensor([start + j for start in range(0, num_slots, batch) for j in block])


@pytest.fixture(scope='module')
def dscl_dist(tmp_path_factory, cifar10_jpeg_root):
    """DSCL + PBSD: one process x 8 and two x 4, 2 epochs of 5 iterations, a checkpoint after
    iteration 7 (mid-epoch 2)."""
    tmp = tmp_path_factory.mktemp('dscl_dist')
    single = _train(_dscl_cfg(tmp / 'single', cifar10_jpeg_root, GLOBAL_BATCH))
    assert single.iter == 10
    dist = _run_distributed(tmp, {'full': _dscl_cfg(tmp / 'full', cifar10_jpeg_root,
                                                    GLOBAL_BATCH // WORLD,
                                                    checkpoint_interval=7)})
    return tmp, _final_state(single), dist['full']


def test_dscl_pbsd_two_processes_equal_one(dscl_dist, cifar10_jpeg_root):
    """Weights, key encoder, BN statistics equal; the queue holds the same keys and labels, in
    the gathered slot order."""
    tmp, single, dist = dscl_dist
    initial = _final_state(Runner.from_cfg(_dscl_cfg(tmp / 'init', cifar10_jpeg_root,
                                                     GLOBAL_BATCH)))
    _assert_moved(single, initial, 'dscl')
    order = _queue_order(16, GLOBAL_BATCH, WORLD)
    expected = dict(single)
    expected['queue.feats'] = single['queue.feats'][order]
    expected['queue.labels'] = single['queue.labels'][order]
    assert int(single['queue.num_filled']) == 16
    assert len(set(single['queue.labels'].tolist())) > 1
    _assert_close_states(dist, expected, 'dscl + pbsd')


def test_dscl_pbsd_two_processes_killed_and_resumed_match(dscl_dist, cifar10_jpeg_root):
    """Rank 0 of a 2-process run is SIGKILLed before iteration 9 (mid-epoch 2, after the
    iteration-7 checkpoint); the launcher tears the other rank down, as torchrun does. Restarted
    with ``resume=True`` it continues from iteration 7 (sampler position, queue, RNG states,
    optimizer) and ends bit for bit as the uninterrupted 2-process run."""
    tmp, _, full = dscl_dist
    work_dir = tmp / 'killed'
    with pytest.raises(mp.ProcessExitedException, match='SIGKILL'):
        _run_distributed(tmp, {'killed': _dscl_cfg(work_dir, cifar10_jpeg_root,
                                                   GLOBAL_BATCH // WORLD, checkpoint_interval=7)},
                         kill_rank0='iter:8')
    assert (work_dir / 'iter_7.pth').exists() and not (work_dir / 'iter_10.pth').exists()
    cfg = _dscl_cfg(work_dir, cifar10_jpeg_root, GLOBAL_BATCH // WORLD, checkpoint_interval=7)
    cfg.resume = True  # from the work dir's last checkpoint
    resumed = _run_distributed(tmp, {'resumed': cfg})['resumed']
    _assert_close_states(resumed, full, 'killed and resumed', rtol=0, atol=0)
