"""Tests of the weight converters in ``tools/model_converters/``.

Each source model is built here in its source key layout with random weights (BatchNorm
statistics included), converted, loaded with ``strict=True`` into the target model, and both give
the same outputs on the same input. ResNet-18 stands in for the ResNet-50 of the configs (the key
layout is the same per block type; the configs' depth and widths are overridden).
"""
import copy
import importlib.util
from pathlib import Path

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint

import mmlt  # noqa: F401  (registers DSCL & co.)
from mmpretrain.registry import MODELS

REPO = Path(__file__).resolve().parents[1]
TOOLS = REPO / 'tools' / 'model_converters'
DSCL_CONFIG = REPO / 'configs' / 'dscl' / 'dscl-pbsd_r50_2xb128-coslr-200e_imagenet-lt.py'
FEAT_DIM, QUEUE_LEN, NUM_CLASSES, QUEUE_PTR = 16, 32, 7, 12
C_LAST = 512  # ResNet-18's last stage


def _tool(name):
    spec = importlib.util.spec_from_file_location(f'converter_{name}', TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dscl_conv = _tool('dscl_official_to_mmlt')
kang_conv = _tool('kang_decoupling_to_mmpretrain')
extract = _tool('extract_backbone')


def _randomize_bn(module: nn.Module, seed: int) -> None:
    """Random affine parameters and running statistics for every BatchNorm (eval mode uses them)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                n = m.num_features
                m.weight.copy_(torch.rand(n, generator=g) + 0.5)
                m.bias.copy_(torch.randn(n, generator=g) * 0.1)
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
                m.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1, ), generator=g)))


def _trunk(resnet: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """torchvision ResNet up to layer4 (the feature map mmpretrain's ResNet returns)."""
    for name in ('conv1', 'bn1', 'relu', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4'):
        x = getattr(resnet, name)(x)
    return x


# --------------------------------------------------------------------- DSCL (SY-Xuan/DSCL)
class OfficialDSCLLayout(nn.Module):
    """The parameters and buffers of the official DSCL module, in its names: two torchvision
    ResNets whose ``fc`` is the MoCo v2 MLP, the queue (dim, K), its labels (1, K), the pointer."""

    def __init__(self, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        for i, name in enumerate(('encoder_q', 'encoder_k')):
            enc = torchvision.models.resnet18(num_classes=FEAT_DIM)
            enc.fc = nn.Sequential(nn.Linear(C_LAST, C_LAST), nn.ReLU(), enc.fc)
            _randomize_bn(enc, seed + i)
            setattr(self, name, enc)  # q and k differ (k is a moving average of past q)
        self.register_buffer('queue', F.normalize(torch.randn(FEAT_DIM, QUEUE_LEN), dim=0))
        self.register_buffer('main_label_queue', torch.randint(0, NUM_CLASSES, (1, QUEUE_LEN)))
        self.register_buffer('queue_ptr', torch.tensor([QUEUE_PTR], dtype=torch.long))

    def ddp_state_dict(self) -> dict:
        """As saved by the official main.py from its DistributedDataParallel model."""
        return {f'module.{k}': v for k, v in self.state_dict().items()}


def _official_ckpt(path: Path, state: dict) -> Path:
    torch.save({'epoch': 200, 'arch': 'resnet18', 'state_dict': state, 'optimizer': {}}, path)
    return path


def _mmlt_dscl():
    """mmlt's DSCL from the ImageNet-LT config, shrunk to ResNet-18, dim 16, K = 32."""
    cfg = Config.fromfile(str(DSCL_CONFIG))
    cfg.model.backbone.depth = 18
    cfg.model.neck.update(in_channels=C_LAST, hid_channels=C_LAST, out_channels=FEAT_DIM)
    cfg.model.update(queue_len=QUEUE_LEN, feat_dim=FEAT_DIM)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg.model)


@pytest.fixture(scope='module')
def official(tmp_path_factory):
    """(source model, path of its official-format checkpoint)."""
    model = OfficialDSCLLayout().eval()
    path = tmp_path_factory.mktemp('dscl') / 'checkpoint.pth.tar'
    return model, _official_ckpt(path, model.ddp_state_dict())


@pytest.fixture(scope='module')
def converted(official, tmp_path_factory):
    """Path of the converted mmlt checkpoint."""
    dst = tmp_path_factory.mktemp('dscl_out') / 'dscl_mmlt.pth'
    dscl_conv.main([str(official[1]), str(dst)])
    return dst


def test_dscl_full_model_matches(official, converted):
    src, _ = official
    model = _mmlt_dscl().eval()
    load_checkpoint(model, str(converted), map_location='cpu', strict=True)
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        feats = model.backbone(x)
        torch.testing.assert_close(feats[-1], _trunk(src.encoder_q, x))
        # query projection (official forward: avgpool + fc MLP, then L2 normalisation)
        torch.testing.assert_close(model._project(feats), F.normalize(src.encoder_q(x), dim=1))
        torch.testing.assert_close(model.neck(feats)[0], src.encoder_q(x))
        # key encoder
        torch.testing.assert_close(model.encoder_k(x)[0], src.encoder_k(x))
        torch.testing.assert_close(model.encoder_k.module[0](x)[-1], _trunk(src.encoder_k, x))
    # the queue: all K entries valid, as (K, dim), with their labels and the write position
    assert len(model.queue) == QUEUE_LEN
    feats_q, labels_q = model.queue.valid()
    torch.testing.assert_close(feats_q, src.queue.t())
    assert torch.equal(labels_q, src.main_label_queue[0])
    assert model.queue.ptr.tolist() == [QUEUE_PTR]
    # the next enqueue writes where the official code would (columns ptr:ptr+B)
    keys = F.normalize(torch.randn(4, FEAT_DIM), dim=1)
    model.queue.enqueue(keys, torch.arange(4))
    torch.testing.assert_close(model.queue.feats[QUEUE_PTR:QUEUE_PTR + 4], keys)
    assert model.queue.ptr.tolist() == [QUEUE_PTR + 4]


def test_dscl_ema_continues_averaging(official, converted):
    """encoder_k.steps > 0: the next EMA update averages instead of copying the query encoder."""
    src, _ = official
    model = _mmlt_dscl()
    load_checkpoint(model, str(converted), map_location='cpu', strict=True)
    assert int(model.encoder_k.steps) > 0
    m = model.encoder_k.momentum
    before = model.encoder_k.module[0].conv1.weight.detach().clone()
    model.encoder_k.update_parameters(nn.Sequential(model.backbone, model.neck))
    expected = (1 - m) * before + m * src.encoder_q.conv1.weight
    torch.testing.assert_close(model.encoder_k.module[0].conv1.weight, expected)
    assert not torch.allclose(model.encoder_k.module[0].conv1.weight, src.encoder_q.conv1.weight)


def test_dscl_backbone_only_loads_into_resnet(official, tmp_path):
    src, path = official
    dst = tmp_path / 'r18.pth'
    dscl_conv.main([str(path), str(dst), '--backbone-only'])
    ckpt = torch.load(dst, map_location='cpu', weights_only=True)
    assert set(ckpt) == {'state_dict', 'meta'}
    assert not any(k.startswith(('backbone.', 'module.', 'fc.')) for k in ckpt['state_dict'])
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        backbone = MODELS.build(
            dict(type='ResNet', depth=18, out_indices=(3, ),
                 init_cfg=dict(type='Pretrained', checkpoint=str(dst))))
    backbone.init_weights()
    backbone.eval()
    assert set(backbone.state_dict()) == set(ckpt['state_dict'])
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        torch.testing.assert_close(backbone(x)[-1], _trunk(src.encoder_q, x))


def test_dscl_convert_without_module_prefix(official):
    src, _ = official
    with_prefix = dscl_conv.convert(src.ddp_state_dict())
    without = dscl_conv.convert(src.state_dict())
    assert with_prefix.keys() == without.keys()
    assert all(torch.equal(with_prefix[k], without[k]) for k in with_prefix)
    assert set(with_prefix) == set(_mmlt_dscl().state_dict())


def _break(state: dict, drop=(), add=()) -> dict:
    state = dict(state)
    for key in drop:
        del state[key]
    for key in add:
        state[key] = torch.zeros(1)
    return state


@pytest.mark.parametrize('change, named', [
    (dict(add=['module.encoder_q.layer1.0.conv9.weight']), 'encoder_q.layer1.0.conv9.weight'),
    (dict(add=['module.predictor.weight']), 'predictor.weight'),
    (dict(add=['module.encoder_k.fc.4.weight']), 'encoder_k.fc.4.weight'),
    (dict(drop=['module.encoder_k.layer2.0.bn1.running_var']),
     'encoder_k.layer2.0.bn1.running_var'),
    (dict(drop=['module.encoder_q.fc.2.bias']), 'encoder_q.fc.2.bias'),
    (dict(drop=['module.queue_ptr']), 'queue_ptr'),
    (dict(drop=['module.main_label_queue']), 'main_label_queue'),
])
@pytest.mark.parametrize('backbone_only', [False, True])
def test_dscl_bad_keys_name_key_and_file(official, tmp_path, change, named, backbone_only):
    src, _ = official
    path = _official_ckpt(tmp_path / 'bad.pth.tar', _break(src.ddp_state_dict(), **change))
    dst = tmp_path / 'out.pth'
    with pytest.raises(ValueError) as e:
        dscl_conv.main([str(path), str(dst)] + (['--backbone-only'] if backbone_only else []))
    assert str(path) in str(e.value) and repr(named) in str(e.value), str(e.value)
    assert not dst.exists()


def test_dscl_mixed_prefix_and_queue_shape(official, tmp_path):
    src, _ = official
    state = src.ddp_state_dict()
    state['queue_ptr'] = state.pop('module.queue_ptr')  # one key without 'module.'
    path = _official_ckpt(tmp_path / 'mixed.pth.tar', state)
    with pytest.raises(ValueError) as e:
        dscl_conv.main([str(path), str(tmp_path / 'out.pth')])
    assert str(path) in str(e.value) and "'queue_ptr'" in str(e.value)

    state = src.ddp_state_dict()
    state['module.main_label_queue'] = state['module.main_label_queue'][:, :-1]
    path = _official_ckpt(tmp_path / 'short.pth.tar', state)
    with pytest.raises(ValueError) as e:
        dscl_conv.main([str(path), str(tmp_path / 'out.pth')])
    assert str(path) in str(e.value) and "'main_label_queue'" in str(e.value)


# ------------------------------------------------- Kang et al. (classifier-balancing)
class KangFeatureLayout(nn.Module):
    """Their ResNetFeature's attribute names and forward (conv1, bn1, relu, maxpool, layer1-4,
    ``AvgPool2d(7, stride=1)``, flatten), on torchvision's blocks; returns (features, None)."""

    def __init__(self, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        tv = torchvision.models.resnet18()
        _randomize_bn(tv, seed)
        for name in ('conv1', 'bn1', 'relu', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4'):
            setattr(self, name, getattr(tv, name))
        self.avgpool = nn.AvgPool2d(7, stride=1)

    def forward(self, x):
        return self.avgpool(_trunk(self, x)).flatten(1), None


class KangClassifierLayout(nn.Module):
    """Their DotProduct_Classifier (``fc``) and, with ``lws``, the learnable scales of their
    TauNormClassifier.py (logits ``fc(x) * scales``)."""

    def __init__(self, lws: bool, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed + 100)
        self.fc = nn.Linear(C_LAST, NUM_CLASSES)
        if lws:
            self.scales = nn.Parameter(torch.rand(NUM_CLASSES) + 0.5)

    def forward(self, x):
        x = self.fc(x)
        return (x * self.scales if hasattr(self, 'scales') else x), None


def _kang_ckpt(path: Path, feat: nn.Module, clf: nn.Module, field: str = 'state_dict_best',
               edit=None) -> Path:
    """As their run_networks.py saves it: each network wrapped in nn.DataParallel."""
    networks = {'feat_model': nn.DataParallel(feat).state_dict(),
                'classifier': nn.DataParallel(clf).state_dict()}
    if edit is not None:
        edit(networks)
    if field == 'state_dict_best':  # final_model_checkpoint.pth
        ckpt = {'epoch': 90, 'best_epoch': 88, 'state_dict_best': networks, 'best_acc': 0.5,
                'centroids': None}
    else:  # latest_model_checkpoint.pth
        ckpt = {'epoch': 90, 'state_dict': networks}
    torch.save(ckpt, path)
    return path


def _image_classifier():
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(dict(
            type='ImageClassifier',
            data_preprocessor=dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]),
            backbone=dict(type='ResNet', depth=18),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=NUM_CLASSES, in_channels=C_LAST)))


@pytest.mark.parametrize('lws, field', [(False, 'state_dict_best'), (True, 'state_dict_best'),
                                        (False, 'state_dict')])
def test_kang_logits_match(tmp_path, lws, field):
    feat, clf = KangFeatureLayout().eval(), KangClassifierLayout(lws).eval()
    src = _kang_ckpt(tmp_path / 'final_model_checkpoint.pth', feat, clf, field)
    dst = tmp_path / 'kang_mmpretrain.pth'
    meta = kang_conv.main([str(src), str(dst)])
    assert meta['lws_folded'] == lws and meta['backbone_cfg'] == dict(type='ResNet', depth=18)
    model = _image_classifier().eval()
    load_checkpoint(model, str(dst), map_location='cpu', strict=True)
    # 224 px: their AvgPool2d(7) is then the global average of GlobalAveragePooling
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        features, _ = feat(x)
        logits, _ = clf(features)
        torch.testing.assert_close(model.extract_feat(x)[-1], features)
        torch.testing.assert_close(model(x, mode='tensor'), logits)


def _drop(network, key):
    return lambda nets: nets[network].pop(key)


def _add(network, key):
    return lambda nets: nets[network].__setitem__(key, torch.zeros(1))


@pytest.mark.parametrize('edit, named', [
    (_add('feat_model', 'module.fc_add.weight'), 'fc_add.weight'),
    (_add('feat_model', 'module.modulatedatt.conv.weight'), 'modulatedatt.conv.weight'),
    (_add('feat_model', 'module.layer5.0.conv1.weight'), 'layer5.0.conv1.weight'),
    (_add('classifier', 'module.weight'), 'weight'),  # CosNorm_Classifier
    (_drop('feat_model', 'module.layer4.1.conv2.weight'), 'layer4.1.conv2.weight'),
    (_drop('classifier', 'module.fc.bias'), 'fc.bias'),
    (_drop('feat_model', 'module.conv1.weight'), 'conv1.weight'),
    (lambda nets: nets.__setitem__('centroids', {}), 'centroids'),
    (lambda nets: nets.pop('classifier'), 'classifier'),
])
def test_kang_bad_keys_name_key_and_file(tmp_path, edit, named):
    src = _kang_ckpt(tmp_path / 'final_model_checkpoint.pth', KangFeatureLayout(),
                     KangClassifierLayout(False), edit=edit)
    with pytest.raises(ValueError) as e:
        kang_conv.main([str(src), str(tmp_path / 'out.pth')])
    assert str(src) in str(e.value) and repr(named) in str(e.value), str(e.value)


def test_kang_wrong_top_level(tmp_path):
    src = tmp_path / 'model.pth'
    torch.save({'epoch': 1, 'model': {}}, src)
    with pytest.raises(ValueError) as e:
        kang_conv.main([str(src), str(tmp_path / 'out.pth')])
    assert str(src) in str(e.value) and "'state_dict_best'" in str(e.value)


# ------------------------------------------------------------------ extract_backbone
def test_extract_backbone_from_dscl_and_classifier(official, converted, tmp_path):
    src, path = official
    # DSCL (query encoder) == the DSCL converter's --backbone-only
    out = tmp_path / 'extracted.pth'
    extract.main([str(converted), str(out)])
    ref = tmp_path / 'ref.pth'
    dscl_conv.main([str(path), str(ref), '--backbone-only'])
    a = torch.load(out, map_location='cpu', weights_only=True)['state_dict']
    b = torch.load(ref, map_location='cpu', weights_only=True)['state_dict']
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    # the key encoder with its prefix; a prefix without the final dot
    extract.main([str(converted), str(out), '--prefix', 'encoder_k.module.0'])
    k_state = torch.load(out, map_location='cpu', weights_only=True)['state_dict']
    assert k_state.keys() == a.keys()
    assert torch.equal(k_state['conv1.weight'], src.encoder_k.conv1.weight)

    # an mmpretrain ImageClassifier checkpoint as saved by a DDP Runner ('module.' keys)
    clf = _image_classifier()
    ckpt = tmp_path / 'epoch_1.pth'
    torch.save({'meta': {'epoch': 1, 'iter': 10},
                'state_dict': {f'module.{k}': v for k, v in clf.state_dict().items()}}, ckpt)
    meta = extract.main([str(ckpt), str(out)])
    assert meta['epoch'] == 1 and meta['num_keys'] == len(clf.backbone.state_dict())
    state = torch.load(out, map_location='cpu', weights_only=True)['state_dict']
    assert state.keys() == clf.backbone.state_dict().keys()


def test_extract_backbone_wrong_prefix(converted, tmp_path):
    with pytest.raises(ValueError) as e:
        extract.main([str(converted), str(tmp_path / 'out.pth'), '--prefix', 'backbone_q.'])
    assert str(converted) in str(e.value) and "'backbone_q.'" in str(e.value)
    assert "'backbone.'" in str(e.value)  # the prefixes the checkpoint does have
    assert not (tmp_path / 'out.pth').exists()
