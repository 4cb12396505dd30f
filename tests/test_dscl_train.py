"""Training-level tests of DSCL + PBSD (Xuan & Zhang, AAAI 2024) from the project's configs.

Real CIFAR-10-LT images through the configs' pipelines, a narrowed ResNet (CIFAR ResNet-20 with
4 base channels) and tiny queues so that everything runs in seconds on a CPU:

- a short stage-1 training has finite losses that fall;
- its checkpoint holds the labelled queue, and a run resumed from a mid-epoch checkpoint ends
  with the same weights AND the same queue as the uninterrupted run;
- two gloo processes write the same keys and labels into the same queue slots as one process
  on the same global batch;
- the stage-2 config loads the stage-1 backbone and classifies backbone + GAP features (the
  ``feat`` of DSCL's predict mode);
- the loss under bf16 autocast is finite and close to fp32 (AMP; mmengine's AmpOptimWrapper
  needs CUDA).
"""
import copy
import os
import socket

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from mmengine.dataset import default_collate
from mmengine.runner import Runner
from mmpretrain.registry import DATASETS, MODELS

from _utils import small_cfg

# the per-image reference pipeline (PBSDMultiView); the batched views: STAGE1_BATCHED
STAGE1 = 'dscl/dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100_per-image.py'
STAGE1_BATCHED = 'dscl/dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100.py'
STAGE2 = 'dscl/dscl-pbsd_r32_crt-1xb512-10e_cifar10-lt-r100.py'
BASE_CHANNELS = 4  # narrowed ResNet: last stage 4 * 4 = 16 channels, 8 x 8 at 32 px
DEPTH = 20


def _narrow(model_cfg, depth=DEPTH):
    """Shrink the CIFAR ResNet of a config (stage 1 or stage 2) for a CPU test."""
    model_cfg.backbone.update(depth=depth, base_channels=BASE_CHANNELS)
    channels = 4 * BASE_CHANNELS
    if model_cfg.type == 'DSCL':
        model_cfg.neck.update(in_channels=channels, hid_channels=64)
    else:
        model_cfg.head.in_channels = channels


def _balanced_indices(cfg, per_class):
    """``per_class`` images of every class of the long-tailed list, shuffled (a fixed seed), so
    that a batch holds several classes (the LT list is ordered by class)."""
    dataset = dict(cfg.train_dataloader.dataset, pipeline=[])
    dataset.pop('indices', None)
    labels = np.asarray(DATASETS.build(dataset).get_gt_labels())
    sel = np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(10)])
    return np.random.RandomState(0).permutation(sel).tolist()


def _stage1_cfg(work_dir, root, *, per_class=4, batch_size=8, max_epochs=2, queue_len=32,
                num_patches=2, lr=0.05, momentum=None, checkpoint_interval=None,
                flip_only_views=False, config=STAGE1):
    """The CIFAR-10-LT DSCL + PBSD config, shrunk to a short CPU run on real images."""
    cfg = small_cfg(config, work_dir, root, num_images=8, batch_size=batch_size,
                    max_epochs=max_epochs, checkpoint_interval=checkpoint_interval)
    cfg.train_dataloader.dataset.indices = _balanced_indices(cfg, per_class)
    if config == STAGE1:
        views = cfg.train_dataloader.dataset.pipeline[1]
        views.num_patches = num_patches
        if flip_only_views:
            views.query_transforms = [dict(type='RandomFlip', prob=0.5)]
    else:  # batched: the views are drawn by the data preprocessor
        cfg.data_preprocessor.views.num_patches = num_patches
        assert not flip_only_views
    _narrow(cfg.model)
    cfg.model.queue_len = queue_len
    if momentum is not None:
        cfg.model.momentum = momentum
    cfg.optim_wrapper.optimizer.lr = lr
    return cfg


def _train(cfg):
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


# ------------------------------------------------------------------ short real training
LOSS_EPOCHS = 50  # 10 images (one per class), batch 10: one iteration per epoch


@pytest.fixture(scope='module')
def stage1(tmp_path_factory, cifar10_jpeg_root):
    """One short stage-1 run shared by the tests that only read its results."""
    work_dir = tmp_path_factory.mktemp('dscl_stage1')
    cfg = _stage1_cfg(work_dir, cifar10_jpeg_root, per_class=1, batch_size=10, queue_len=30,
                      max_epochs=LOSS_EPOCHS, flip_only_views=True)
    return _train(cfg), work_dir


def test_stage1_losses_are_finite_and_fall(stage1):
    """A short real run of the config's model, loss, optimiser (SGD, wd 5e-4), key-encoder
    momentum (m = 0.999), PBSD boxes and crops (with the crops' colour augmentations); lr 0.05
    for batch 10.

    The query / key views are only flipped here: under the full MoCo v2 augmentations a
    contrastive model first sits on the plateau of near-uniform similarities (measured: 150 CPU
    iterations of this tiny model do not leave it), which a CI run cannot wait for; with
    flip-only views on 10 images the objective itself visibly falls within 50 iterations.
    """
    runner, _ = stage1
    hub = runner.message_hub
    dscl = np.asarray(hub.get_scalar('train/loss_dscl').data[0])
    pbsd = np.asarray(hub.get_scalar('train/loss_pbsd').data[0])
    iters = len(runner.train_dataloader)
    assert len(dscl) == len(pbsd) == LOSS_EPOCHS * iters
    assert np.isfinite(dscl).all() and np.isfinite(pbsd).all()
    # the queue starts empty: the first step's PBSD teacher sees the own key only (loss 0); DSCL's
    # contrast set [q; k; queue] (the authors', the config's default) already holds the batch
    assert runner.model.head.contrast_mode == 'batch_queue'
    assert pbsd[0] == 0 and dscl[0] > 0
    assert (dscl[1:] > 0).all() and (pbsd[1:] > 0).all()
    total = dscl + pbsd
    # the loss grows while the queue fills (more negatives); from the step where it is full
    # (30 keys = 3 batches) its scale is fixed: compare the next 10 steps with the last 10
    full = runner.model.queue.length // runner.train_dataloader.batch_size
    early, late = total[full:full + 10].mean(), total[-10:].mean()
    # measured late / early: 0.90 (seed 0), 0.92, 0.93 (seeds 1, 2); a model that does not
    # learn stays on its plateau (ratio 1.00 +- 0.01)
    assert late < 0.95 * early, (early, late, total.round(2).tolist())


def test_checkpoint_holds_the_labelled_queue(stage1):
    runner, work_dir = stage1
    ckpt = torch.load(work_dir / f'epoch_{LOSS_EPOCHS}.pth', map_location='cpu',
                      weights_only=False)
    state = ckpt['state_dict']
    seen = LOSS_EPOCHS * len(runner.train_dataloader) * runner.train_dataloader.batch_size
    length = runner.model.queue.length
    assert state['queue.feats'].shape == (length, 128)
    assert int(state['queue.num_filled']) == min(seen, length)
    assert int(state['queue.ptr']) == seen % length
    # the stored labels are the labels of the training images (a balanced subset of 10 classes)
    labels = state['queue.labels']
    assert labels.min() >= 0 and set(labels.tolist()) <= set(range(10))
    assert len(set(labels.tolist())) > 3
    # the stored keys are L2-normalised projections
    torch.testing.assert_close(state['queue.feats'].norm(dim=1), torch.ones(length))
    for name, value in runner.model.queue.state_dict().items():
        assert torch.equal(value, state[f'queue.{name}']), name


# ------------------------------------------------------------------ exact resume
def test_resumed_run_ends_with_same_weights_and_queue(tmp_path, cifar10_jpeg_root):
    """Resume from a mid-epoch checkpoint (num_workers=0; the default runtime's SamplerStateHook
    and RandomStateHook): weights, key encoder, optimizer AND the queue continue exactly,
    including the random boxes, crops and colour augmentations of PBSDMultiView."""
    def cfg(work_dir):
        return _stage1_cfg(work_dir, cifar10_jpeg_root, per_class=3, batch_size=6,
                           max_epochs=2, queue_len=16, checkpoint_interval=3)

    full = _train(cfg(tmp_path / 'full'))
    iters = len(full.train_dataloader)
    assert 3 < iters, 'the checkpoint at iteration 3 must be mid-epoch'
    hooks = {type(h).__name__ for h in full.hooks}
    assert {'SamplerStateHook', 'RandomStateHook'} <= hooks

    resumed_cfg = cfg(tmp_path / 'resumed')
    resumed_cfg.resume = True
    resumed_cfg.load_from = str(tmp_path / 'full' / 'iter_3.pth')
    resumed = _train(resumed_cfg)

    assert resumed.iter == full.iter == 2 * iters
    full_state = full.model.state_dict()
    resumed_state = resumed.model.state_dict()
    assert set(resumed_state) == set(full_state)
    assert {'queue.feats', 'queue.labels', 'queue.ptr', 'queue.num_filled'} <= set(full_state)
    for name, value in resumed_state.items():
        assert torch.equal(value, full_state[name]), name
    assert len(resumed.model.queue) == len(full.model.queue) == 16


def test_batched_views_run_resumes_exactly(tmp_path, cifar10_jpeg_root):
    """The batched path (preloaded images, views / boxes / crops drawn by
    BatchAugViewsDataPreprocessor from torch's generator in the main process): finite losses,
    and a run resumed mid-epoch ends bit-identical to the uninterrupted one, queue included."""
    def cfg(work_dir):
        return _stage1_cfg(work_dir, cifar10_jpeg_root, per_class=3, batch_size=6, max_epochs=2,
                           queue_len=16, checkpoint_interval=3, config=STAGE1_BATCHED)

    full_cfg = cfg(tmp_path / 'full')
    assert full_cfg.train_dataloader.dataset.preload
    assert full_cfg.train_dataloader.dataset.pipeline == [dict(type='PackInputs')]
    full = _train(full_cfg)
    assert type(full.model.data_preprocessor).__name__ == 'BatchAugViewsDataPreprocessor'
    hub = full.message_hub
    for key in ('train/loss_dscl', 'train/loss_pbsd'):
        assert np.isfinite(hub.get_scalar(key).data[0]).all()
    iters = len(full.train_dataloader)
    resumed_cfg = cfg(tmp_path / 'resumed')
    resumed_cfg.resume = True
    resumed_cfg.load_from = str(tmp_path / 'full' / 'iter_3.pth')
    resumed = _train(resumed_cfg)
    assert resumed.iter == full.iter == 2 * iters
    full_state = full.model.state_dict()
    for name, value in resumed.model.state_dict().items():
        assert torch.equal(value, full_state[name]), name


# ------------------------------------------------------------------ two gloo processes
def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _dist_model(model_cfg):
    """Build the model the same way in every process; BatchNorm in eval mode (see below)."""
    from mmengine.registry import init_default_scope
    import mmlt  # noqa: F401
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(model_cfg))
    model.init_weights()
    model.train()
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.eval()
    return model


def _steps(model, batches, rank, world_size, train_step):
    from mmengine.optim import OptimWrapper
    optim = OptimWrapper(torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=0.5, momentum=0.9))
    from mmpretrain.structures import DataSample
    for batch in batches:
        per_rank = len(batch['labels']) // world_size
        sl = slice(rank * per_rank, (rank + 1) * per_rank)
        samples = []
        for label, boxes in zip(batch['labels'][sl], batch['patch_boxes'][sl]):
            sample = DataSample().set_gt_label(int(label))
            sample.set_field(boxes, 'patch_boxes')
            samples.append(sample)
        train_step(dict(inputs=[v[sl] for v in batch['inputs']], data_samples=samples), optim)


def _dist_worker(rank, world_size, port, model_cfg, batches, out_dir):
    torch.set_num_threads(1)
    torch.distributed.init_process_group(
        'gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=world_size)
    try:
        from mmengine.model import MMDistributedDataParallel
        model = _dist_model(model_cfg)
        ddp = MMDistributedDataParallel(module=model)
        _steps(model, batches, rank, world_size, ddp.train_step)
        torch.save(dict(queue=model.queue.state_dict(), backbone=model.backbone.state_dict()),
                   os.path.join(out_dir, f'rank{rank}.pth'))
    finally:
        torch.distributed.destroy_process_group()


def test_two_gloo_processes_fill_the_queue_like_one(tmp_path, cifar10_jpeg_root):
    """Global batch 8 = 2 ranks x 4 on the same real images, 3 steps.

    The keys of rank 0 then rank 1 are gathered (all_gather) into consecutive slots, so the
    queue equals the single-process queue slot by slot, labels included; 3 steps of 8 keys in a
    queue of 16 also wrap around. Step 1 contrasts an empty queue (zero loss), step 2's gradient
    is averaged by DDP and moves the weights, so the keys of step 3 (momentum 0.5) check that the
    distributed update equals the single-process one. The comparison is only meaningful without
    batch-coupled normalisation: BatchNorm is in eval mode (per-rank batch statistics would
    differ from the global ones; in real runs shuffle-BN or SyncBN handle this) and shuffle_bn is
    off (it permutes keys across ranks, which only matters with batch statistics).
    """
    cfg = _stage1_cfg(tmp_path, cifar10_jpeg_root, per_class=3, batch_size=8, queue_len=16,
                      momentum=0.5)
    cfg.model.shuffle_bn = False
    # the contrast set own key + queue: the authors' [q; k; queue] (the default) contrasts each
    # query with its own rank's batch, so it depends on the number of processes by design
    cfg.model.head.contrast_mode = 'queue'
    cfg.model.data_preprocessor = cfg.data_preprocessor
    model_cfg = cfg.model.to_dict()

    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(dataset) >= 24
    reference = _dist_model(model_cfg)
    # collated raw batches as plain tensors (every process preprocesses its part in train_step)
    batches = []
    for start in (0, 8, 16):
        batch = default_collate([dataset[i] for i in range(start, start + 8)])
        batches.append(dict(
            inputs=batch['inputs'],
            labels=torch.cat([ds.gt_label for ds in batch['data_samples']]),
            patch_boxes=torch.stack([torch.as_tensor(ds.patch_boxes)
                                     for ds in batch['data_samples']])))
    labels = torch.cat([b['labels'] for b in batches])
    _steps(reference, batches, 0, 1, reference.train_step)

    mp.spawn(_dist_worker, args=(2, _free_port(), model_cfg, batches, str(tmp_path)),
             nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f'rank{r}.pth', weights_only=False) for r in (0, 1)]
    expected = reference.queue.state_dict()
    # the last 16 of 24 keys: slots 0..7 hold step 3, slots 8..15 step 2
    assert torch.equal(expected['labels'], torch.cat([labels[16:], labels[8:16]]))
    assert int(expected['ptr']) == 8 and int(expected['num_filled']) == 16
    for state in ranks:
        queue = state['queue']
        for name in ('labels', 'ptr', 'num_filled'):
            assert torch.equal(queue[name], expected[name]), name
        # float sums over another batch split: equal up to rounding
        torch.testing.assert_close(queue['feats'], expected['feats'], rtol=1e-5, atol=1e-6)
        for name, value in reference.backbone.state_dict().items():
            torch.testing.assert_close(state['backbone'][name], value, rtol=1e-5, atol=1e-6)
    assert torch.equal(ranks[0]['queue']['feats'], ranks[1]['queue']['feats'])
    # the update of step 2 did move the key encoder: step-3 keys differ from re-encoding the
    # step-3 images with the initial weights
    initial = _dist_model(model_cfg)
    with torch.no_grad():
        im_k = initial.data_preprocessor(dict(inputs=batches[2]['inputs']), True)['inputs'][1]
        k0 = torch.nn.functional.normalize(initial.neck(initial.backbone(im_k))[0], dim=1)
    assert not torch.allclose(k0, expected['feats'][:8], atol=1e-4)


# ------------------------------------------------------------------ two-stage chain
def test_stage2_loads_stage1_backbone_and_uses_backbone_gap_features(
        stage1, tmp_path, cifar10_jpeg_root):
    stage1_runner, stage1_dir = stage1
    ckpt_path = stage1_dir / f'epoch_{LOSS_EPOCHS}.pth'
    stage1_state = torch.load(ckpt_path, map_location='cpu', weights_only=False)['state_dict']

    cfg = small_cfg(STAGE2, tmp_path, cifar10_jpeg_root, num_images=64, batch_size=32,
                    max_epochs=1)
    _narrow(cfg.model)
    assert cfg.model.backbone.init_cfg.prefix == 'backbone.'
    cfg.model.backbone.init_cfg.checkpoint = str(ckpt_path)
    runner = Runner.from_cfg(cfg)
    model = runner.model
    model.init_weights()  # what Runner.train() does first
    backbone = {f'backbone.{k}': v for k, v in model.backbone.state_dict().items()}
    assert backbone
    for name, value in backbone.items():
        assert torch.equal(value, stage1_state[name]), name
    # the head is a fresh N(0, 0.01) linear layer, not stage-1 weights
    assert model.head.fc.weight.std() < 0.05

    runner.train()
    for name, value in model.backbone.state_dict().items():
        assert torch.equal(value, stage1_state[f'backbone.{name}']), name  # frozen, BN eval
    assert not model.backbone.training

    # the linear stage classifies exactly DSCL's predict-mode features (backbone + GAP)
    dscl = copy.deepcopy(stage1_runner.model)
    dscl.load_state_dict(stage1_state)
    dscl.eval()
    images = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        feats = torch.stack([ds.feat for ds in dscl.predict(images)])
        pre_logits = model.extract_feat(images, stage='pre_logits')
    torch.testing.assert_close(pre_logits, feats)


# ------------------------------------------------------------------ mixed precision
def test_bf16_autocast_loss_is_finite_and_close_to_fp32(cifar10_jpeg_root, tmp_path):
    """The config's model (PBSD on) on real images: the loss under CPU bf16 autocast is finite,
    close to fp32, and so are the gradients (the heads compute their logits in float32)."""
    cfg = _stage1_cfg(tmp_path, cifar10_jpeg_root, per_class=2, queue_len=32)
    cfg.model.data_preprocessor = cfg.data_preprocessor
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    batches = [model.data_preprocessor(default_collate([dataset[i] for i in range(s, s + 8)]),
                                       True) for s in (0, 8)]
    model(**batches[0], mode='loss')  # fill part of the queue
    losses = {}
    grads = {}
    for dtype in (torch.float32, torch.bfloat16):
        m = copy.deepcopy(model)
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
            out = m(**batches[1], mode='loss')
        total = sum(out.values())
        total.backward()
        losses[dtype] = {k: v.item() for k, v in out.items()}
        grads[dtype] = m.backbone.conv1.weight.grad.clone()
    for dtype in losses:
        assert all(np.isfinite(v) and v > 0 for v in losses[dtype].values()), losses
        assert torch.isfinite(grads[dtype]).all()
    for name, value in losses[torch.float32].items():
        assert abs(losses[torch.bfloat16][name] - value) <= 0.02 * value, losses
    cos = torch.nn.functional.cosine_similarity(
        grads[torch.float32].flatten(), grads[torch.bfloat16].flatten(), dim=0)
    assert cos > 0.8, cos  # measured 0.94 (bf16 rounding in a 4-channel network)
