"""Tests for LabeledQueue, DSCL(+PBSD) and its data preprocessor."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

import mmlt  # noqa: F401  (registers everything)
from mmlt.models.selfsup import DSCL
from mmlt.models.utils import LabeledQueue, PatchViewsDataPreprocessor


# ----------------------------------------------------------------- heads
def _heads(alpha=0.1):
    return (dict(type='DSCLHead', loss=dict(type='DSCLLoss', alpha=alpha),
                 temperature=0.07, contrast_mode='queue'),
            dict(type='PBSDHead', temperature=0.07, loss_weight=1.5))


# ----------------------------------------------------------------- model
C_BACKBONE, FEAT_DIM, QUEUE_LEN, BATCH, NUM_PATCHES = 16, 8, 16, 4, 2


def _model(pbsd=True, alpha=0.1, use_labels=True, momentum=0.001):
    torch.manual_seed(0)
    head, pbsd_head = _heads(alpha)
    return DSCL(
        backbone=dict(type='CifarResNet', depth=20, base_channels=4),
        neck=dict(type='MoCoV2Neck', in_channels=C_BACKBONE,
                  hid_channels=32, out_channels=FEAT_DIM),
        head=head,
        pbsd_head=pbsd_head if pbsd else None,
        roi_neck=dict(type='PatchRoINeck', spatial_scale=1 / 4)
        if pbsd else None,
        queue_len=QUEUE_LEN,
        feat_dim=FEAT_DIM,
        momentum=momentum,
        use_labels=use_labels)


def _batch(seed=0, labels=(0, 1, 0, 2)):
    g = torch.Generator().manual_seed(seed)
    im_q = torch.randn(BATCH, 3, 32, 32, generator=g)
    im_k = torch.randn(BATCH, 3, 32, 32, generator=g)
    crops = torch.randn(BATCH * NUM_PATCHES, 3, 16, 16, generator=g)
    samples = []
    for lab in labels:
        ds = DataSample().set_gt_label(lab)
        ds.set_field(torch.tensor([[0., 0., 16., 16.], [8., 4., 30., 28.]]),
                     'patch_boxes')
        samples.append(ds)
    return [im_q, im_k, crops], samples


@pytest.mark.parametrize('pbsd', [False, True])
def test_losses_finite_and_backward(pbsd):
    model = _model(pbsd=pbsd)
    first = model(*_batch(seed=1), mode='loss')  # fills the empty queue
    # with an empty queue both losses see only the own key: exactly 0
    for value in first.values():
        torch.testing.assert_close(value, torch.zeros(()))
    inputs, samples = _batch()
    losses = model(inputs, samples, mode='loss')
    assert set(losses) == ({'loss_dscl', 'loss_pbsd'} if pbsd else
                           {'loss_dscl'})
    for name, value in losses.items():
        assert value.dim() == 0 and torch.isfinite(value), name
    if pbsd:
        # L_pbsd alone reaches the backbone (through f_ij and e_ij)
        losses['loss_pbsd'].backward()
        grad = model.backbone.conv1.weight.grad
        assert grad is not None and grad.abs().sum() > 0
        assert not any(p.grad is not None
                       for p in model.encoder_k.parameters())
    assert len(model.queue) == 2 * BATCH


def test_label_free_alpha1_is_moco_v2_and_pbsd_matches_reference():
    """Whole-algorithm reference: MoCo v2 InfoNCE for L_dscl (alpha = 1,
    no labels) and Eq. 11-14 written out for L_pbsd."""
    from torchvision.ops import roi_align
    model = _model(pbsd=True, alpha=1.0, use_labels=False)
    model(*_batch(seed=1), mode='loss')  # fills 4 queue entries
    ref = copy.deepcopy(model)
    (im_q, im_k, crops), samples = _batch(seed=4)
    losses = model([im_q, im_k, crops], samples, mode='loss')

    with torch.no_grad():
        ref.encoder_k.update_parameters(torch.nn.Sequential(
            ref.backbone, ref.neck))
        k = F.normalize(ref.encoder_k(im_k)[0], dim=1)
        queue = ref.queue.valid()[0]
        fmap = ref.backbone(im_q)[-1]
        q = F.normalize(ref.neck.mlp(fmap.mean((2, 3))), dim=1)
        logits = torch.cat([(q * k).sum(1, keepdim=True), q @ queue.t()], 1)
        moco = F.cross_entropy(logits / 0.07, torch.zeros(BATCH).long())
        boxes = torch.stack([ds.patch_boxes for ds in samples])
        rois = [b for b in boxes]
        pooled = roi_align(fmap, rois, 2, 1 / 4, 0, True).mean((2, 3))
        f = F.normalize(ref.neck.mlp(pooled), dim=1).view(BATCH, -1, 8)
        e = F.normalize(ref.neck.mlp(ref.backbone(crops)[-1].mean((2, 3))),
                        dim=1).view(BATCH, -1, 8)
        total = 0.
        for i in range(BATCH):
            for j in range(NUM_PATCHES):
                lt = torch.cat([(f[i, j] @ k[i])[None], queue @ f[i, j]])
                ls = torch.cat([(e[i, j] @ k[i])[None], queue @ e[i, j]])
                total -= (F.softmax(lt / 0.07, 0) *
                          F.log_softmax(ls / 0.07, 0)).sum()
        pbsd = 1.5 * total / (BATCH * NUM_PATCHES)
    torch.testing.assert_close(losses['loss_dscl'], moco)
    torch.testing.assert_close(losses['loss_pbsd'], pbsd)


def test_key_encoder_is_ema_after_a_step():
    momentum = 0.1
    model = _model(pbsd=False, momentum=momentum)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    model(*_batch(seed=2), mode='loss')  # fills the queue
    query_params = dict(
        torch.nn.Sequential(model.backbone, model.neck).named_parameters())
    # the first update copies the query encoder
    for n, p in model.encoder_k.module.named_parameters():
        torch.testing.assert_close(p, query_params[n])
    model(*_batch(), mode='loss')['loss_dscl'].backward()
    key_before = {n: p.detach().clone()
                  for n, p in model.encoder_k.module.named_parameters()}
    opt.step()
    opt.zero_grad()
    model(*_batch(seed=1), mode='loss')
    moved = 0
    for n, p in model.encoder_k.module.named_parameters():
        expect = (1 - momentum) * key_before[n] + momentum * query_params[n]
        torch.testing.assert_close(p.detach(), expect.detach())
        moved += int(not torch.equal(p, key_before[n]))
    assert moved > 0


def test_queue_holds_keys_and_labels_after_a_step():
    model = _model(pbsd=True)
    inputs, samples = _batch(labels=(3, 1, 4, 1))
    model(inputs, samples, mode='loss')
    with torch.no_grad():  # same weights and batch -> same keys
        k = F.normalize(model.encoder_k(inputs[1])[0], dim=1)
    feats, labels = model.queue.valid()
    assert feats.shape == (BATCH, FEAT_DIM)
    torch.testing.assert_close(feats, k)
    assert labels.tolist() == [3, 1, 4, 1]
    assert int(model.queue.ptr) == BATCH and int(model.queue.num_filled) == 4
    # the queue is part of the checkpoint and restores its valid entries
    state = model.state_dict()
    assert {'queue.feats', 'queue.labels', 'queue.ptr',
            'queue.num_filled'} <= set(state)
    restored = _model(pbsd=True)
    restored.load_state_dict(state)
    torch.testing.assert_close(restored.queue.valid()[0], k)


def test_unwritten_queue_entries_are_excluded():
    model = _model(pbsd=True)
    model(*_batch(), mode='loss')  # 4 of 16 entries written
    garbage = copy.deepcopy(model)
    torch.manual_seed(1)
    # fill the unwritten slots like the official code (random feats/labels)
    garbage.queue.feats[BATCH:] = F.normalize(
        torch.randn(QUEUE_LEN - BATCH, FEAT_DIM), dim=1)
    garbage.queue.labels[BATCH:] = torch.randint(0, 3, (QUEUE_LEN - BATCH, ))
    counted = copy.deepcopy(garbage)
    state = counted.queue.state_dict()
    state['num_filled'] = torch.tensor([QUEUE_LEN])
    counted.queue.load_state_dict(state)
    assert len(counted.queue) == QUEUE_LEN

    batch = _batch(seed=2)
    clean_losses = model(*batch, mode='loss')
    garbage_losses = garbage(*batch, mode='loss')
    counted_losses = counted(*batch, mode='loss')
    for name in clean_losses:
        torch.testing.assert_close(garbage_losses[name], clean_losses[name])
        # had they been counted, the loss would differ
        assert not torch.allclose(counted_losses[name], clean_losses[name])


def test_label_free_mode_ignores_labels():
    model = _model(pbsd=True, alpha=1.0, use_labels=False)
    model(*_batch(labels=(0, 1, 0, 2)), mode='loss')
    assert model.queue.valid()[1].tolist() == [-1] * BATCH
    shuffled = copy.deepcopy(model)
    inputs, samples = _batch(seed=3, labels=(0, 0, 1, 1))
    _, other = _batch(seed=3, labels=(2, 1, 2, 0))
    a = model(inputs, samples, mode='loss')
    b = shuffled(inputs, other, mode='loss')
    for name in a:
        torch.testing.assert_close(a[name], b[name])
    assert model.queue.valid()[1].tolist() == [-1] * 2 * BATCH

    # with labels (alpha < 1) the same shuffle changes L_dscl
    model = _model(pbsd=False, alpha=0.1, use_labels=True)
    model(*_batch(labels=(0, 1, 0, 2)), mode='loss')
    shuffled = copy.deepcopy(model)
    a = model(inputs, samples, mode='loss')['loss_dscl']
    b = shuffled(inputs, other, mode='loss')['loss_dscl']
    assert not torch.allclose(a, b)


def test_tensor_and_predict_modes():
    model = _model(pbsd=True)
    model.eval()
    inputs, samples = _batch()
    feats = model(inputs[0], mode='tensor')
    assert isinstance(feats, tuple) and feats[-1].shape == (BATCH, 16, 8, 8)
    torch.testing.assert_close(feats[-1], model.extract_feat(inputs[0])[-1])
    out = model(inputs[0], samples, mode='predict')
    emb = torch.stack([ds.embedding for ds in out])
    assert emb.shape == (BATCH, FEAT_DIM)
    torch.testing.assert_close(emb.norm(dim=1), torch.ones(BATCH))
    torch.testing.assert_close(
        torch.stack([ds.feat for ds in out]), feats[-1].mean((2, 3)))


def test_missing_boxes_or_bad_config_raise():
    with pytest.raises(ValueError, match='together'):
        DSCL(
            backbone=dict(type='CifarResNet', depth=20, base_channels=4),
            neck=dict(type='MoCoV2Neck', in_channels=16, hid_channels=8,
                      out_channels=8),
            head=_heads()[0],
            pbsd_head=_heads()[1],
            queue_len=8,
            feat_dim=8)
    model = _model(pbsd=True)
    inputs, _ = _batch()
    with pytest.raises(ValueError, match='patch_boxes'):
        model(inputs, [DataSample().set_gt_label(0)] * BATCH, mode='loss')


# ----------------------------------------------------------------- queue
def test_queue_shorter_than_the_global_batch_is_refused():
    model = _model()
    model.queue = type(model.queue)(BATCH - 1, FEAT_DIM)  # holds less than one batch of keys
    with pytest.raises(ValueError, match=rf'DSCL: queue_len={BATCH - 1} is smaller than the '
                       rf'global batch \({BATCH} x 1 processes = {BATCH}\); set '
                       rf'model.queue_len >= {BATCH}'):
        model(*_batch(), mode='loss')


def _naive_queue(batches, length):
    """Reference: sequential writes into a python list."""
    slots, ptr, filled = [None] * length, 0, 0
    for batch in batches:
        for row in batch:
            slots[ptr] = row
            ptr = (ptr + 1) % length
            filled = min(filled + 1, length)
    return slots, ptr, filled


@pytest.mark.parametrize('sizes', [(3, 3), (2, 2, 2), (7, ), (3, 9, 1)])
def test_queue_wraparound_matches_sequential_writes(sizes):
    queue = LabeledQueue(5, 2)
    batches, label_batches, start = [], [], 0
    for n in sizes:
        feats = torch.arange(start, start + n).float()[:, None].repeat(1, 2)
        labels = torch.arange(start, start + n) + 100
        queue.enqueue(feats, labels)
        batches.append(feats)
        label_batches.append(labels)
        start += n
    slots, ptr, filled = _naive_queue(batches, 5)
    assert int(queue.ptr) == ptr and int(queue.num_filled) == filled
    feats, labels = queue.valid()
    assert len(feats) == filled == len(queue)
    expect = torch.stack([s for s in slots if s is not None])
    torch.testing.assert_close(feats, expect)
    torch.testing.assert_close(labels, expect[:, 0].long() + 100)


def test_queue_valid_and_state_dict():
    queue = LabeledQueue(8, 3)
    feats, labels = queue.valid()
    assert feats.shape == (0, 3) and labels.shape == (0, )
    x = torch.randn(3, 3)
    queue.enqueue(x)  # label-free
    feats, labels = queue.valid()
    torch.testing.assert_close(feats, x)
    assert labels.tolist() == [-1, -1, -1]
    state = queue.state_dict()
    assert set(state) == {'feats', 'labels', 'ptr', 'num_filled'}
    restored = LabeledQueue(8, 3)
    restored.load_state_dict(state)
    torch.testing.assert_close(restored.valid()[0], x)
    assert len(restored) == 3
    with pytest.raises(ValueError, match=r'\(B, 3\)'):
        queue.enqueue(torch.randn(2, 4))


# ----------------------------------------------------------------- data
def test_preprocessor_flattens_crops_and_swaps_channels():
    pre = PatchViewsDataPreprocessor(
        mean=[1., 2., 3.], std=[2., 4., 8.], to_rgb=True)
    q = torch.randint(0, 255, (2, 3, 8, 8), dtype=torch.uint8)
    crops = torch.randint(0, 255, (2, 3, 3, 4, 4), dtype=torch.uint8)
    out = pre(dict(inputs=[q, q.clone(), crops], data_samples=None))
    mean = torch.tensor([1., 2., 3.])[:, None, None]
    std = torch.tensor([2., 4., 8.])[:, None, None]
    torch.testing.assert_close(out['inputs'][0],
                               (q.flip(1).float() - mean) / std)
    assert out['inputs'][2].shape == (6, 3, 4, 4)
    # row b * L + j is crop j of sample b, channels reversed (BGR -> RGB)
    torch.testing.assert_close(out['inputs'][2][1 * 3 + 2],
                               (crops[1, 2].flip(0).float() - mean) / std)


def test_pipeline_to_loss_on_cifar(cifar10_jpeg_root):
    """Real images: PBSDMultiView -> PackInputs -> collate -> model."""
    from mmengine.dataset import default_collate
    from mmpretrain.registry import TRANSFORMS
    paths = sorted((cifar10_jpeg_root / 'train').glob('*/000[0-3].jpg'))[:4]
    pipeline = [
        TRANSFORMS.build(t) for t in [
            dict(type='LoadImageFromFile'),
            dict(type='PBSDMultiView',
                 query_transforms=[dict(type='RandomFlip', prob=0.5)],
                 patch_transforms=[dict(type='RandomFlip', prob=0.5)],
                 num_patches=NUM_PATCHES, patch_size=16),
            dict(type='PackInputs', algorithm_keys=['patch_boxes']),
        ]
    ]
    items = []
    for i, p in enumerate(paths):
        r = dict(img_path=str(p), gt_label=i % 3)
        for t in pipeline:
            r = t(r)
        items.append(r)
    model = _model(pbsd=True)
    model.data_preprocessor = PatchViewsDataPreprocessor(
        mean=[125.3, 123.0, 113.9], std=[63.0, 62.1, 66.7], to_rgb=True)
    data = model.data_preprocessor(default_collate(items), True)
    q, k, crops = data['inputs']
    assert q.shape == k.shape == (4, 3, 32, 32)
    assert crops.shape == (4 * NUM_PATCHES, 3, 16, 16)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_dscl', 'loss_pbsd'}
    assert all(torch.isfinite(v) for v in losses.values())
    labels = model.queue.valid()[1]
    assert labels.tolist() == [0, 1, 2, 0]
