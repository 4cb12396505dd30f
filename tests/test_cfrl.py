"""Tests of CFRL (Song et al., MMAsia 2024): the rotation patch branch of the algorithm, its
rotation set, the label-free image-level stage, and the three chained stages on real images."""
import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmpretrain.registry import MODELS, TRANSFORMS
from mmpretrain.structures import DataSample

import mmlt  # noqa: F401  (registers everything)
from mmlt.models.selfsup import CFRL, check_rotations, rotate_crops

from _utils import REPO, small_cfg

C_BACKBONE, FEAT_DIM, QUEUE_LEN, BATCH, NUM_PATCHES, TAU = 16, 8, 16, 4, 2, 0.2
IMAGE_CFG = 'cfrl/cfrl-image_r32_1xb256-coslr-200e_cifar10-lt-r100.py'
PATCH_CFG = 'cfrl/cfrl-patch_r32_1xb256-coslr-100e_cifar10-lt-r100.py'
CRT_CFG = 'cfrl/cfrl_r32_crt-1xb512-10e_cifar10-lt-r100.py'


# ----------------------------------------------------------------- helpers
def _model(rotations=(90, 180, 270), positive='roi', head=True, **kwargs):
    torch.manual_seed(0)
    return CFRL(
        backbone=dict(type='CifarResNet', depth=20, base_channels=4),
        neck=dict(type='MoCoV2Neck', in_channels=C_BACKBONE, hid_channels=32,
                  out_channels=FEAT_DIM),
        head=dict(type='DSCLHead', loss=dict(type='DSCLLoss', alpha=1.0),
                  temperature=TAU) if head else None,
        rotation_head=dict(type='RotationContrastiveHead', temperature=TAU, loss_weight=0.5),
        roi_neck=dict(type='PatchRoINeck', spatial_scale=1 / 4, backend='torchvision'),
        rotations=rotations,
        positive=positive,
        queue_len=QUEUE_LEN,
        feat_dim=FEAT_DIM,
        use_labels=False,
        **kwargs)


def _batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    im_q = torch.randn(BATCH, 3, 32, 32, generator=g)
    im_k = torch.randn(BATCH, 3, 32, 32, generator=g)
    crops = torch.randn(BATCH * NUM_PATCHES, 3, 16, 16, generator=g)
    samples = []
    for lab in range(BATCH):
        ds = DataSample().set_gt_label(lab % 2)
        ds.set_field(torch.tensor([[0., 0., 16., 16.], [8., 4., 30., 28.]]), 'patch_boxes')
        samples.append(ds)
    return [im_q, im_k, crops], samples


def _embed(model, images):
    """Query embedding of images, one at a time (eval mode: batch-independent)."""
    return torch.cat([F.normalize(model.neck(model.backbone(x[None]))[0], dim=1)
                      for x in images])


# ----------------------------------------------------------------- rotation set
@pytest.mark.parametrize('bad,match', [((0, 90), 'angle 0 '), ((90, 360), 'angle 360 '),
                                       ((45, ), 'angle 45 '), ((90, 450), 'angle 450 ')])
def test_identity_or_bad_rotations_are_rejected(bad, match):
    with pytest.raises(ValueError, match=match):
        check_rotations(bad)
    with pytest.raises(ValueError, match=match):
        _model(rotations=bad)


def test_rotate_crops_equals_np_rot90_on_real_crops(cifar10_jpeg_root):
    """The model's rotation of the preprocessed crop tensor is np.rot90 of the crop arrays (the
    normalisation is per channel, so it commutes), in row order n * R + r."""
    views = TRANSFORMS.build(dict(
        type='PBSDMultiView', query_transforms=[], num_patches=3, patch_size=16))
    load = TRANSFORMS.build(dict(type='LoadImageFromFile'))
    crops = views(load(dict(img_path=str(cifar10_jpeg_root / 'train' / 'cat' / '0001.jpg'))))[
        'img'][2]  # (L, 3, p, p) uint8
    rotations = (90, 180, 270)
    got = rotate_crops(torch.from_numpy(crops), rotations)
    assert got.shape == (3 * 3, 3, 16, 16)
    for n, crop in enumerate(crops):
        hwc = crop.transpose(1, 2, 0)
        for r, angle in enumerate(rotations):
            want = np.rot90(hwc, k=angle // 90).transpose(2, 0, 1)
            np.testing.assert_array_equal(got[n * 3 + r].numpy(), want)
    assert not np.array_equal(got[0].numpy(), crops[0])  # a real crop is not rotation-invariant


# ----------------------------------------------------------------- the patch loss
def _reference_rot_loss(ref, inputs, samples, k, queue, positive, rotations):
    """Eq. of CFRL's patch level written out per patch (float64 sums, python loops)."""
    from torchvision.ops import roi_align
    im_q, _, crops = inputs
    fmap = ref.backbone(im_q)[-1]
    boxes = [ds.patch_boxes for ds in samples]
    pooled = roi_align(fmap, boxes, 2, 1 / 4, 0, True).mean((2, 3))
    f = F.normalize(ref.neck.mlp(pooled), dim=1)
    total = 0.
    for i in range(BATCH):
        for j in range(NUM_PATCHES):
            n = i * NUM_PATCHES + j
            crop = crops[n]
            e = _embed(ref, crop[None])[0].double()
            rot = _embed(ref, [torch.rot90(crop, a // 90, (1, 2)) for a in rotations]) \
                if rotations else crop.new_zeros(0, FEAT_DIM)
            pos = (f[n] if positive == 'roi' else k[i]).double()
            s_pos = float(e @ pos) / TAU
            others = [float(e @ r.double()) / TAU for r in rot]
            others += [float(e @ q.double()) / TAU for q in queue]
            total += math.log(math.exp(s_pos) + sum(math.exp(s) for s in others)) - s_pos
    return 0.5 * total / (BATCH * NUM_PATCHES)


@pytest.mark.parametrize('positive,rotations', [('roi', (90, 180, 270)), ('key', (90, 180, 270)),
                                                ('roi', (180, )), ('key', ())])
def test_patch_loss_matches_naive_reference(positive, rotations):
    """Whole-algorithm reference in eval mode (BatchNorm then does not depend on the batch, so a
    per-crop loop must give the same embeddings as the single batched pass)."""
    model = _model(rotations=rotations, positive=positive)
    model.eval()
    model(*_batch(seed=1), mode='loss')  # fills 4 queue entries
    ref = copy.deepcopy(model)
    inputs, samples = _batch(seed=2)
    losses = model(inputs, samples, mode='loss')
    assert set(losses) == {'loss_dscl', 'loss_rot'}
    with torch.no_grad():
        ref.encoder_k.update_parameters(torch.nn.Sequential(ref.backbone, ref.neck))
        k = F.normalize(ref.encoder_k(inputs[1])[0], dim=1)
        queue = ref.queue.valid()[0]
        want = _reference_rot_loss(ref, inputs, samples, k, queue, positive, rotations)
    assert losses['loss_rot'].item() == pytest.approx(want, rel=1e-4)


def test_without_rotations_patch_loss_is_plain_infonce():
    """rotations=() gives MoCo's InfoNCE of the crop embeddings against [positive ; queue];
    adding rotated negatives only adds terms to the denominator (a larger loss)."""
    plain = _model(rotations=(), positive='key')
    plain.eval()
    plain(*_batch(seed=1), mode='loss')
    rotated = copy.deepcopy(plain)
    rotated.rotations = (90, 180, 270)
    ref = copy.deepcopy(plain)
    inputs, samples = _batch(seed=3)
    got = plain(inputs, samples, mode='loss')['loss_rot']
    with torch.no_grad():
        ref.encoder_k.update_parameters(torch.nn.Sequential(ref.backbone, ref.neck))
        k = F.normalize(ref.encoder_k(inputs[1])[0], dim=1)
        e = _embed(ref, inputs[2])
        pos = k.repeat_interleave(NUM_PATCHES, 0)
        logits = torch.cat([(e * pos).sum(1, keepdim=True), e @ ref.queue.valid()[0].t()], 1)
        want = 0.5 * F.cross_entropy(logits / TAU, torch.zeros(len(e), dtype=torch.long))
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    assert rotated(inputs, samples, mode='loss')['loss_rot'] > got


def test_crops_and_rotations_share_one_encoder_batch_and_get_gradients():
    model = _model()
    sizes = []
    model.backbone.register_forward_hook(lambda m, args, out: sizes.append(args[0].size(0)))
    model(*_batch(seed=1), mode='loss')
    sizes.clear()
    losses = model(*_batch(seed=2), mode='loss')
    # the query view, then crops + 3 rotations of each in ONE pass (the key encoder is separate)
    assert sizes == [BATCH, BATCH * NUM_PATCHES * 4]
    losses['loss_rot'].backward()
    grad = model.backbone.conv1.weight.grad
    assert grad is not None and grad.abs().sum() > 0
    assert not any(p.grad is not None for p in model.encoder_k.parameters())


def test_bad_configs_raise():
    with pytest.raises(ValueError, match="positive must be one of"):
        _model(positive='crop')
    with pytest.raises(ValueError, match='roi_neck is required'):
        CFRL(backbone=dict(type='CifarResNet', depth=20, base_channels=4),
             neck=dict(type='MoCoV2Neck', in_channels=16, hid_channels=8, out_channels=8),
             rotation_head=dict(type='RotationContrastiveHead'), queue_len=8, feat_dim=8)
    model = _model()
    inputs, samples = _batch()
    with pytest.raises(ValueError, match='list of 3'):
        model(inputs[:2], samples, mode='loss')
    with pytest.raises(ValueError, match='patch_boxes'):
        model(inputs, [DataSample() for _ in range(BATCH)], mode='loss')


# ----------------------------------------------------------------- image level: no labels
def _config_model_and_batches(cfg, num_batches):
    init_default_scope('mmpretrain')
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    batches = []
    for batch in loader:
        batches.append(model.data_preprocessor(batch, True))
        if len(batches) == num_batches:
            break
    return model, batches


def _shuffled_labels(samples, seed):
    """Copies of the samples with permuted labels, some replaced by random ones."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.cat([ds.gt_label for ds in samples])
    labels = labels[torch.randperm(len(labels), generator=gen)]
    labels[::3] = torch.randint(0, 10, (len(labels[::3]), ), generator=gen)
    out = []
    for ds, lab in zip(samples, labels):
        ds = copy.deepcopy(ds)
        ds.set_gt_label(int(lab))
        out.append(ds)
    assert not torch.equal(torch.cat([d.gt_label for d in out]),
                           torch.cat([d.gt_label for d in samples]))
    return out


def test_image_level_stage_uses_no_labels(cifar10_jpeg_root, tmp_path):
    """The stage-1a config's model gets identical losses, gradients and queue with shuffled
    labels over several steps (queue filled), on real CIFAR-10-LT batches. The same check fails
    for the model with labels switched on (so it can detect label use)."""
    cfg = small_cfg(IMAGE_CFG, tmp_path, cifar10_jpeg_root, num_images=24, batch_size=8)
    cfg.model.queue_len = 16
    model, batches = _config_model_and_batches(cfg, 3)
    assert model.use_labels is False

    def run(model, relabel):
        model = copy.deepcopy(model)
        losses = []
        for step, data in enumerate(batches):
            samples = _shuffled_labels(data['data_samples'], step) if relabel \
                else data['data_samples']
            loss = model(data['inputs'], samples, mode='loss')['loss_dscl']
            model.zero_grad()
            loss.backward()
            losses.append(loss.detach())
        grad = model.backbone.conv1.weight.grad.clone()
        return torch.stack(losses), grad, model.queue.valid()

    losses, grad, (feats, labels) = run(model, False)
    losses_s, grad_s, (feats_s, labels_s) = run(model, True)
    assert (losses[1:] > 0).all()  # the queue is non-empty after the first step
    torch.testing.assert_close(losses, losses_s, rtol=0, atol=0)
    torch.testing.assert_close(grad, grad_s, rtol=0, atol=0)
    torch.testing.assert_close(feats, feats_s, rtol=0, atol=0)
    assert labels.tolist() == labels_s.tolist() == [-1] * 16

    cfg.model.use_labels = True
    cfg.model.head.loss.alpha = 0.1
    labelled = MODELS.build(dict(cfg.model, data_preprocessor=cfg.data_preprocessor))
    labelled.load_state_dict(model.state_dict())
    losses_l, _, _ = run(labelled, False)
    losses_ls, _, _ = run(labelled, True)
    assert not torch.allclose(losses_l[1:], losses_ls[1:])


# ----------------------------------------------------------------- the chained stages
TINY_BACKBONE = dict(type='CifarResNet', depth=20, base_channels=4)  # 16 x 8 x 8 at 32 px


def _tiny_stage1(cfg):
    """A small encoder and queue and a fast-moving key encoder for a few-iteration run."""
    cfg.model.backbone = dict(TINY_BACKBONE)
    cfg.model.neck.update(in_channels=16, hid_channels=64)
    cfg.model.queue_len = 32
    cfg.model.momentum = 0.1
    cfg.optim_wrapper.optimizer.lr = 0.1
    return cfg


def _fixed_batches(cfg, num):
    loader = Runner.build_dataloader(copy.deepcopy(cfg.train_dataloader), seed=1)
    batches = []
    for batch in loader:
        batches.append(batch)
        if len(batches) == num:
            return batches
    raise AssertionError('not enough batches')


def _objective(model, batches, key):
    """The stage's loss ``key`` on the last fixed batch, after a fresh queue was filled with the
    model's own keys of the other batches (a training loss with a moving queue and key encoder
    is too noisy over a few iterations to show learning)."""
    from mmlt.models.utils import LabeledQueue
    model = copy.deepcopy(model)
    if hasattr(model, 'queue'):
        model.queue = LabeledQueue(model.queue.length, model.queue.feat_dim)
    with torch.no_grad():
        torch.manual_seed(0)  # the same augmented views for every model (batched path)
        for batch in batches:
            loss = model(**model.data_preprocessor(batch, True), mode='loss')[key]
    return loss.item()


def test_three_stages_chain_on_real_images(cifar10_jpeg_root, tmp_path):
    """1a (label-free MoCo) -> 1b (rotation patches, whole model loaded) -> cRT (backbone
    prefix), each a short CPU run on real CIFAR-10-LT JPEGs: finite losses, and the stage's
    objective on fixed real batches falls from the start to the end of the run."""
    epochs, num = 3, 48

    def stage(cfg, key):
        runner = Runner.from_cfg(cfg)
        runner.model.init_weights()
        batches = _fixed_batches(cfg, 3)
        before = copy.deepcopy(runner.model)
        runner.train()
        values = np.asarray(runner.message_hub.get_scalar(f'train/{key}').data[0])
        assert len(values) == epochs * len(runner.train_dataloader)
        assert np.isfinite(values).all(), values
        start, end = _objective(before, batches, key), _objective(runner.model, batches, key)
        assert end < start, (key, start, end)
        return runner, before

    # stage 1a
    cfg_a = _tiny_stage1(small_cfg(IMAGE_CFG, tmp_path / '1a', cifar10_jpeg_root,
                                   num_images=num, batch_size=16, max_epochs=epochs))
    stage(cfg_a, 'loss_dscl')
    ckpt_a = tmp_path / '1a' / f'epoch_{epochs}.pth'
    state_a = torch.load(ckpt_a, map_location='cpu')['state_dict']

    # stage 1b, initialised with the whole 1a model (queue and key encoder included)
    cfg_b = _tiny_stage1(small_cfg(PATCH_CFG, tmp_path / '1b', cifar10_jpeg_root,
                                   num_images=num, batch_size=16, max_epochs=epochs))
    cfg_b.data_preprocessor.views.num_patches = 2
    cfg_b.optim_wrapper.optimizer.lr = 0.03
    assert cfg_b.model.init_cfg.type == 'Pretrained'
    cfg_b.model.init_cfg.checkpoint = str(ckpt_a)
    _, loaded = stage(cfg_b, 'loss_rot')
    loaded = loaded.state_dict()
    assert set(loaded) == set(state_a)
    for name, value in state_a.items():
        assert torch.equal(loaded[name], value), name
    ckpt_b = tmp_path / '1b' / f'epoch_{epochs}.pth'
    state_b = torch.load(ckpt_b, map_location='cpu')['state_dict']
    assert any(not torch.equal(state_b[n], state_a[n]) for n in state_a if 'backbone' in n)

    # classifier stage: cRT on the frozen 1b backbone (only the `backbone.` keys)
    cfg_c = small_cfg(CRT_CFG, tmp_path / 'crt', cifar10_jpeg_root, num_images=num,
                      batch_size=16, max_epochs=epochs)
    cfg_c.model.backbone.update(TINY_BACKBONE)
    cfg_c.model.head.in_channels = 16
    cfg_c.model.backbone.init_cfg.checkpoint = str(ckpt_b)
    run_c, _ = stage(cfg_c, 'loss')
    for name, value in run_c.model.backbone.state_dict().items():
        assert torch.equal(value, state_b[f'backbone.{name}']), name  # loaded and frozen


def test_configs_chain_checkpoints():
    """Each stage's default init_cfg points at the previous stage's last checkpoint."""
    for stage1a, stage1b, clf in [
        ('cfrl-image_r32_1xb256-coslr-200e_cifar10-lt-r100',
         'cfrl-patch_r32_1xb256-coslr-100e_cifar10-lt-r100',
         'cfrl_r32_crt-1xb512-10e_cifar10-lt-r100'),
        ('cfrl-image_r18_1xb256-coslr-200e_tiny-imagenet-lt-r100',
         'cfrl-patch_r18_1xb256-coslr-100e_tiny-imagenet-lt-r100',
         'cfrl_r18_crt-1xb512-10e_tiny-imagenet-lt-r100'),
        ('cfrl-image_r50_2xb128-coslr-200e_imagenet-lt',
         'cfrl-patch_r50_2xb128-coslr-100e_imagenet-lt',
         'cfrl_r50_linear-40e_imagenet-lt'),
    ]:
        a = Config.fromfile(str(REPO / 'configs' / 'cfrl' / f'{stage1a}.py'))
        b = Config.fromfile(str(REPO / 'configs' / 'cfrl' / f'{stage1b}.py'))
        c = Config.fromfile(str(REPO / 'configs' / 'cfrl' / f'{clf}.py'))
        assert a.model.type == b.model.type == 'CFRL'
        assert a.model.use_labels is False and a.model.head.loss.alpha == 1.0
        assert a.model.get('rotation_head') is None and b.model.rotation_head is not None
        assert tuple(b.model.rotations) == (90, 180, 270)
        assert b.model.init_cfg.checkpoint == \
            f'work_dirs/{stage1a}/epoch_{a.train_cfg.max_epochs}.pth'
        init = c.model.get('init_cfg') or c.model.backbone.init_cfg
        assert init.prefix == 'backbone.'
        assert init.checkpoint == f'work_dirs/{stage1b}/epoch_{b.train_cfg.max_epochs}.pth'
