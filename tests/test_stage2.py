"""Tests of the stage-2 classifiers of Kang et al., ICLR 2020 (cRT, LWS, tau-norm, NCM)."""
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmlt.engine.hooks.class_mean_hook import ClassMeanHook, class_mean_statistics
from mmlt.models.heads.tau_norm_head import (choose_tau, parse_taus, tau_norm_accuracies,
                                             tau_normalize)
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

C, D = 5, 64
REPO = Path(__file__).resolve().parents[1]


def backbone_cfg(**kwargs):
    return dict(type='CifarResNet', depth=20, **kwargs)


def classifier_cfg(type_='DecoupledClassifier', head=None, **kwargs):
    head = head or dict(type='LinearClsHead', num_classes=C, in_channels=D)
    return dict(type=type_, backbone=kwargs.pop('backbone', backbone_cfg()),
                neck=dict(type='GlobalAveragePooling'), head=head, **kwargs)


def samples(labels):
    return [DataSample().set_gt_label(int(y)) for y in labels]


def linear_head(seed=0):
    torch.manual_seed(seed)
    head = MODELS.build(dict(type='LinearClsHead', num_classes=C, in_channels=D))
    with torch.no_grad():
        head.fc.weight.normal_()
        head.fc.bias.normal_()
    return head


# ----------------------------------------------------------------------------- tau-norm
def test_tau_normalize_matches_per_class_formula():
    w = torch.randn(C, D) * torch.rand(C, 1) * 3
    for tau in (0.0, 0.3, 1.0, 1.7, 2.0):
        ref = torch.stack([w[j] / torch.linalg.norm(w[j])**tau for j in range(C)])
        assert torch.allclose(tau_normalize(w, tau), ref, atol=1e-6)
    assert torch.allclose(tau_normalize(w, 1.0).norm(dim=1), torch.ones(C), atol=1e-6)
    assert torch.equal(tau_normalize(w, 0.0), w)


def test_tau_norm_head_loads_linear_head_and_drops_bias():
    stage1 = linear_head()
    x = torch.randn(7, D)
    for tau in (0.0, 0.5, 1.0):
        head = MODELS.build(dict(type='TauNormHead', num_classes=C, in_channels=D, tau=tau))
        head.load_state_dict(stage1.state_dict())  # strict: same keys fc.weight / fc.bias
        logits = head((x, ))
        w = stage1.fc.weight.detach()
        ref = torch.stack([x @ (w[j] / w[j].norm()**tau) for j in range(C)], dim=1)
        assert torch.allclose(logits, ref, atol=1e-5)
        assert not any(p.requires_grad for p in head.parameters())
    # tau = 0 is the stage-1 classifier without its bias
    head0 = MODELS.build(dict(type='TauNormHead', num_classes=C, in_channels=D, tau=0.0))
    head0.load_state_dict(stage1.state_dict())
    assert torch.allclose(head0((x, )), stage1((x, )) - stage1.fc.bias, atol=1e-5)


def test_tau_sweep_helpers():
    taus = parse_taus('0:2:0.1')
    assert len(taus) == 21 and taus[0] == 0 and taus[-1] == 2.0
    assert parse_taus('0,0.5,1').tolist() == [0, 0.5, 1]
    with pytest.raises(ValueError, match='--taus'):
        parse_taus('0:2:-1')
    tau, acc = choose_tau([0.0, 0.5, 1.0, 1.5], [40.0, 52.0, 52.0, 47.0])
    assert (tau, acc) == (0.5, 52.0)  # best val accuracy, ties to the smallest tau
    assert choose_tau(np.array([1.0, 0.0]), np.array([3.0, 3.0]))[0] == 0.0

    w = torch.randn(C, D)
    feats, labels = torch.randn(40, D), torch.randint(0, C, (40, ))
    accs = tau_norm_accuracies(feats, labels, w, [0.0, 1.0])
    for tau, acc in zip([0.0, 1.0], accs):
        preds = [int(np.argmax([float(f @ (w[j] / w[j].norm()**tau)) for j in range(C)]))
                 for f in feats]
        ref = 100 * np.mean([p == int(y) for p, y in zip(preds, labels)])
        assert acc == pytest.approx(ref)


# ----------------------------------------------------------------------------- LWS
def test_lws_scales_only_are_trained_and_ones_reproduce_stage1():
    stage1 = linear_head()
    lws = MODELS.build(dict(type='LWSHead', num_classes=C, in_channels=D))
    missing, unexpected = lws.load_state_dict(stage1.state_dict(), strict=False)
    assert missing == ['scales'] and unexpected == []
    x = torch.randn(6, D)
    assert torch.allclose(lws((x, )), stage1((x, )), atol=1e-6)

    labels = torch.randint(0, C, (6, ))
    lws.loss((x, ), samples(labels))['loss'].backward()
    assert lws.scales.grad is not None and lws.scales.grad.abs().sum() > 0
    assert lws.fc.weight.grad is None and lws.fc.bias.grad is None
    assert [n for n, p in lws.named_parameters() if p.requires_grad] == ['scales']

    with torch.no_grad():
        lws.scales.copy_(torch.rand(C) + 0.5)
    w, b = stage1.fc.weight.detach(), stage1.fc.bias.detach()
    ref = torch.stack([lws.scales[j] * (x @ w[j] + b[j]) for j in range(C)], dim=1)
    assert torch.allclose(lws((x, )), ref, atol=1e-5)  # the bias is scaled too


# ----------------------------------------------------------------------------- NCM
def naive_ncm(x, center, means, distance):
    preds = []
    for xi in x:
        v = (xi - center) / torch.linalg.norm(xi - center)
        if distance == 'cosine':
            s = [float(v @ m / torch.linalg.norm(m)) for m in means]
        else:
            s = [-float(torch.linalg.norm(v - m)) for m in means]
        preds.append(int(np.argmax(s)))
    return preds


@pytest.mark.parametrize('distance,normalize', [('cosine', True), ('euclidean', True),
                                                ('euclidean', False)])
def test_ncm_predictions_match_naive_loop(distance, normalize):
    torch.manual_seed(1)
    head = MODELS.build(dict(type='NCMHead', num_classes=C, in_channels=D, distance=distance,
                             normalize_means=normalize))
    with pytest.raises(RuntimeError, match='ClassMeanHook'):
        head((torch.randn(2, D), ))
    center = torch.randn(D)
    means = torch.randn(C, D) * torch.rand(C, 1)  # unequal norms
    head.update_means(center, means)
    stored = F.normalize(means, dim=1) if normalize else means
    assert torch.allclose(head.class_means, stored)
    x = torch.randn(50, D) + center
    preds = [int(s.pred_label) for s in head.predict((x, ))]
    assert preds == naive_ncm(x, center, stored, distance)
    with pytest.raises(RuntimeError, match='no trainable'):
        head.loss((x, ), samples(torch.zeros(50)))


def test_ncm_euclidean_with_unit_means_equals_cosine():
    center, means = torch.randn(D), torch.randn(C, D)
    x = torch.randn(30, D)
    scores = {}
    for distance in ('cosine', 'euclidean'):
        head = MODELS.build(dict(type='NCMHead', num_classes=C, in_channels=D,
                                 distance=distance))
        head.update_means(center, means)
        scores[distance] = head((x, ))
    # ||x' - m||^2 = 2 - 2 x'.m for unit vectors
    assert torch.allclose(scores['euclidean'], -(2 - 2 * scores['cosine']).clamp(min=0).sqrt(),
                          atol=1e-4)


def test_class_mean_statistics_matches_naive():
    feats = torch.randn(30, D) + 3
    labels = torch.arange(30) % 4  # class 4 has no sample
    center, means, counts = class_mean_statistics(feats, labels, C)
    ref_center = feats.mean(0)
    assert torch.allclose(center, ref_center, atol=1e-5)
    assert counts.tolist() == [8, 8, 7, 7, 0]
    for j in range(4):
        vs = [(f - ref_center) / torch.linalg.norm(f - ref_center)
              for f, y in zip(feats, labels) if y == j]
        m = torch.stack(vs).mean(0)
        assert torch.allclose(means[j], m / torch.linalg.norm(m), atol=1e-5)
    assert torch.all(means[4] == 0)
    with pytest.raises(ValueError, match='label 7 outside'):
        class_mean_statistics(feats, torch.full((30, ), 7), C)


def test_class_mean_hook_on_real_images(cifar10_jpeg_root, tmp_path):
    classes = sorted(p.name for p in (cifar10_jpeg_root / 'train').iterdir())[:3]
    lines = [f'{c}/{i:04d}.jpg {k}' for k, c in enumerate(classes) for i in range(1, 5)]
    (tmp_path / 'ann.txt').write_text('\n'.join(lines) + '\n')
    loader = dict(
        batch_size=5, num_workers=0,
        dataset=dict(type='CustomDataset', data_root=str(cifar10_jpeg_root / 'train'),
                     ann_file=str(tmp_path / 'ann.txt'), classes=classes,
                     pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')]),
        sampler=dict(type='DefaultSampler', shuffle=True), collate_fn=dict(type='default_collate'))
    model = MODELS.build(classifier_cfg(
        head=dict(type='NCMHead', num_classes=3, in_channels=D),
        data_preprocessor=dict(mean=[125.3, 123.0, 113.9], std=[63.0, 62.1, 66.7])))
    model.init_weights()
    hook = ClassMeanHook(dataloader=loader)
    assert hook.dataloader['sampler']['round_up'] is False
    model.train()
    runner = SimpleNamespace(model=model, seed=0, build_dataloader=Runner.build_dataloader)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        hook.before_test(runner)
    assert model.training and model.head.training  # mode restored

    # naive reference: one image at a time, eval mode
    model.eval()
    feats, labels = [], []
    from mmcv import imread
    for line in lines:
        path, label = line.split()
        img = torch.from_numpy(imread(str(cifar10_jpeg_root / 'train' / path))).permute(2, 0, 1)
        data = model.data_preprocessor(dict(inputs=[img]), False)
        with torch.no_grad():
            feats.append(model.neck(model.backbone(data['inputs']))[-1][0])
        labels.append(int(label))
    feats = torch.stack(feats)
    center = feats.mean(0)
    assert torch.allclose(model.head.feat_center, center, atol=1e-4)
    for j in range(3):
        m = torch.stack([(f - center) / (f - center).norm()
                         for f, y in zip(feats, labels) if y == j]).mean(0)
        assert torch.allclose(model.head.class_means[j], m / m.norm(), atol=1e-4)


# ----------------------------------------------------------------------------- DecoupledClassifier
def test_decoupled_classifier_freezes_backbone_and_bn_stats():
    model = MODELS.build(classifier_cfg())
    model.init_weights()
    model.train()
    assert not model.backbone.training and model.head.training
    stats = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    inputs = torch.randn(4, 3, 32, 32)
    loss = model(inputs, samples([0, 1, 2, 3]), mode='loss')['loss']
    loss.backward()
    for k, v in model.backbone.state_dict().items():
        assert torch.equal(v, stats[k]), k  # BN running stats and weights unchanged
    assert all(p.grad is None and not p.requires_grad for p in model.backbone.parameters())
    assert model.head.fc.weight.grad is not None and model.head.fc.weight.grad.abs().sum() > 0

    # an ImageClassifier in train mode does update its BN statistics (the test can fail)
    plain = MODELS.build(classifier_cfg('ImageClassifier'))
    plain.train()
    before = plain.backbone.bn1.running_mean.clone()
    plain(inputs, samples([0, 1, 2, 3]), mode='loss')
    assert not torch.equal(before, plain.backbone.bn1.running_mean)


def make_stage1_checkpoint(path):
    torch.manual_seed(0)
    stage1 = MODELS.build(classifier_cfg('ImageClassifier'))
    stage1.init_weights()
    with torch.no_grad():
        for name, buf in stage1.named_buffers():
            if 'running_mean' in name:
                buf.normal_()
        stage1.head.fc.bias.normal_()
    torch.save({'state_dict': stage1.state_dict(), 'meta': {}}, path)
    return stage1


@pytest.mark.parametrize('where', ['backbone', 'classifier'])
def test_crt_loads_stage1_backbone_with_prefix(tmp_path, where):
    ckpt = str(tmp_path / 'stage1.pth')
    stage1 = make_stage1_checkpoint(ckpt)
    init = dict(type='Pretrained', checkpoint=ckpt, prefix='backbone.')
    if where == 'backbone':
        cfg = classifier_cfg(backbone=backbone_cfg(init_cfg=init))
    else:
        cfg = classifier_cfg(init_cfg=init)
    torch.manual_seed(123)
    model = MODELS.build(cfg)
    model.init_weights()
    ref = stage1.backbone.state_dict()
    for k, v in model.backbone.state_dict().items():
        assert torch.equal(v, ref[k]), k
    # the head is re-initialised N(0, 0.01) with zero bias, not loaded
    w = model.head.fc.weight
    assert not torch.equal(w, stage1.head.fc.weight)
    assert w.std().item() == pytest.approx(0.01, rel=0.3)
    assert torch.all(model.head.fc.bias == 0)


@pytest.mark.parametrize('head', ['LWSHead', 'TauNormHead'])
def test_whole_stage1_model_loads_for_lws_and_tau_norm(tmp_path, head):
    ckpt = str(tmp_path / 'stage1.pth')
    stage1 = make_stage1_checkpoint(ckpt)
    model = MODELS.build(classifier_cfg(
        head=dict(type=head, num_classes=C, in_channels=D,
                  **(dict(tau=0.0) if head == 'TauNormHead' else {})),
        init_cfg=dict(type='Pretrained', checkpoint=ckpt)))
    model.init_weights()
    ref = stage1.state_dict()
    for k, v in model.state_dict().items():
        if k != 'head.scales':
            assert torch.equal(v, ref[k]), k
    stage1.eval()
    model.eval()
    x = torch.randn(3, 3, 32, 32)
    if head == 'LWSHead':
        assert torch.allclose(model(x), stage1(x), atol=1e-5)
        assert [n for n, p in model.named_parameters() if p.requires_grad] == ['head.scales']
    else:  # tau = 0: the stage-1 classifier without bias
        assert torch.allclose(model(x), stage1(x) - stage1.head.fc.bias, atol=1e-5)


# ----------------------------------------------------------------------------- integration
CE_CONFIG = 'configs/decoupled/ce_resnet32_1xb128-200e_cifar10-lt-r100.py'


def small_stage1_cfg(cifar10_jpeg_root, work_dir):
    from mmengine.config import Config
    cfg = Config.fromfile(str(REPO / CE_CONFIG))
    cfg.work_dir = str(work_dir)
    loaders = {}
    starts = np.cumsum([0, 5000, 2997, 1796, 1077, 645, 387, 232, 139, 83])  # CIFAR-10-LT r100
    train_indices = [int(s) + k for s in starts for k in range(3)]  # 3 images of every class
    for name, split, indices in (('train_dataloader', 'train', train_indices),
                                 ('val_dataloader', 'val', list(range(0, 50, 5))),
                                 ('test_dataloader', 'test', list(range(0, 9950, 995)))):
        loader = cfg[name].copy()
        loader.update(batch_size=8, num_workers=0, persistent_workers=False)
        loader.dataset = dict(loader.dataset, data_root=str(cifar10_jpeg_root), split=split,
                              val_per_class=5, indices=indices)
        loaders[name] = loader
    cfg.merge_from_dict(loaders)
    cfg.train_dataloader.dataset.pipeline = cfg.test_dataloader.dataset.pipeline
    cfg.model.backbone.depth = 20  # faster on a busy CPU
    return cfg


def test_tau_norm_sweep_tool_picks_tau_on_val(cifar10_jpeg_root, tmp_path, monkeypatch):
    import importlib.util
    import json
    import sys
    cfg = small_stage1_cfg(cifar10_jpeg_root, tmp_path)
    cfg_file = tmp_path / 'stage1.py'
    cfg.dump(str(cfg_file))
    torch.manual_seed(0)
    stage1 = MODELS.build(cfg.model)
    stage1.init_weights()
    with torch.no_grad():  # unequal class norms so that tau matters
        stage1.head.fc.weight.mul_(torch.linspace(0.2, 5, 10)[:, None] * 100)
    torch.save({'state_dict': stage1.state_dict()}, tmp_path / 'stage1.pth')

    spec = importlib.util.spec_from_file_location('tau_norm_sweep',
                                                  REPO / 'tools' / 'tau_norm_sweep.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    monkeypatch.setattr(sys, 'argv', ['tau_norm_sweep.py', str(cfg_file),
                                      str(tmp_path / 'stage1.pth'), '--taus', '0:2:0.5',
                                      '--work-dir', str(tmp_path / 'out'), '--device', 'cpu'])
    tool.main()
    result = json.loads((tmp_path / 'out' / 'tau_norm_sweep.json').read_text())
    assert result['taus'] == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert result['num_val'] == 10 and result['num_test'] == 10
    assert result['tau'] == choose_tau(result['taus'], result['val_top1'])[0]
    assert {'top1', 'many', 'medium', 'few'} <= {k.split('/')[-1] for k in result['test']}

    # independent check: the mmpretrain predict path of a TauNormHead classifier
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        for split, accs in (('val', result['val_top1']), ('test', None)):
            loader = Runner.build_dataloader(cfg[f'{split}_dataloader'])
            tau = result['tau'] if accs is None else 2.0
            # built as the Runner builds it: with the config's data_preprocessor
            assert cfg.get('data_preprocessor') is not None
            model = MODELS.build(dict(cfg.model, type='DecoupledClassifier', head=dict(
                cfg.model.head, type='TauNormHead', tau=tau),
                data_preprocessor=cfg.data_preprocessor))
            model.load_state_dict(stage1.state_dict())
            model.eval()
            correct = [int(s.pred_label) == int(s.gt_label)
                       for data in loader for s in model.test_step(data)]
            acc = 100 * np.mean(correct)
            ref = accs[-1] if accs is not None else [
                v for k, v in result['test'].items() if k.split('/')[-1] == 'top1'][0]
            assert acc == pytest.approx(ref, abs=1e-3), split

    # the written config with the chosen tau reproduces the reported test metrics in tools/test.py
    best = Config.fromfile(result['config_with_tau'])
    assert best.model.head.type == 'TauNormHead' and best.model.head.tau == result['tau']
    best.work_dir = str(tmp_path / 'best')
    best.load_from = str(tmp_path / 'stage1.pth')
    metrics = Runner.from_cfg(best).test()
    for key, value in result['test'].items():
        assert metrics[key] == pytest.approx(value, abs=1e-3, nan_ok=True), key


def test_ncm_runs_in_runner_test(cifar10_jpeg_root, tmp_path):
    """The recommended NCM config: test only, so a plain ImageClassifier (DDP-wrappable)."""
    cfg = small_stage1_cfg(cifar10_jpeg_root, tmp_path)
    cfg.model = dict(cfg.model, type='ImageClassifier',
                     head=dict(type='NCMHead', num_classes=10, in_channels=64))
    cfg.custom_hooks = [dict(type='ClassMeanHook', dataloader=cfg.train_dataloader)]
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper', 'param_scheduler'):
        cfg.pop(key, None)
    cfg.default_hooks.pop('checkpoint', None)
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    assert {'top1', 'many', 'medium', 'few'} <= {k.split('/')[-1] for k in metrics}
    head = runner.model.head
    assert torch.allclose(head.class_means.norm(dim=1), torch.ones(10), atol=1e-5)
    assert head.feat_center.abs().sum() > 0


def test_ncm_model_saved_with_its_means_tests_without_recomputing(cifar10_jpeg_root, tmp_path):
    """ClassMeanHook(save=...) writes the model with its class means; tested again with
    reuse_loaded=True it gives the same metrics without extracting the training features."""
    def ncm_cfg(work_dir, **hook):
        cfg = small_stage1_cfg(cifar10_jpeg_root, work_dir)
        cfg.model = dict(cfg.model, type='ImageClassifier',
                         head=dict(type='NCMHead', num_classes=10, in_channels=64))
        cfg.custom_hooks = [dict(type='ClassMeanHook', dataloader=cfg.train_dataloader, **hook)]
        for key in ('train_dataloader', 'train_cfg', 'optim_wrapper', 'param_scheduler'):
            cfg.pop(key, None)
        cfg.default_hooks.pop('checkpoint', None)
        return cfg

    first = Runner.from_cfg(ncm_cfg(tmp_path / 'a', save='ncm.pth'))
    metrics = first.test()
    saved = tmp_path / 'a' / 'ncm.pth'
    assert saved.exists()

    cfg = ncm_cfg(tmp_path / 'b', reuse_loaded=True)
    cfg.load_from = str(saved)
    second = Runner.from_cfg(cfg)
    hook = next(h for h in second.hooks if isinstance(h, ClassMeanHook))
    hook.compute = lambda runner: pytest.fail('recomputed the class means')
    again = second.test()
    assert again.keys() == metrics.keys()
    for key in metrics:
        assert again[key] == pytest.approx(metrics[key], nan_ok=True), key
    torch.testing.assert_close(second.model.head.class_means, first.model.head.class_means)


def test_ncm_with_bn_recalibration_before_the_class_means(cifar10_jpeg_root, tmp_path):
    """BNRecalibrationHook(before_test) runs before ClassMeanHook: it must not call the NCM head,
    whose means do not exist yet, and the means must be those of the recalibrated backbone."""
    cfg = small_stage1_cfg(cifar10_jpeg_root, tmp_path)
    cfg.model = dict(cfg.model, type='ImageClassifier',
                     head=dict(type='NCMHead', num_classes=10, in_channels=64))
    loader = cfg.train_dataloader
    cfg.custom_hooks = [dict(type='ClassMeanHook', dataloader=loader),
                        dict(type='BNRecalibrationHook', dataloader=loader,
                             before_train=False, before_test=True)]
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper', 'param_scheduler'):
        cfg.pop(key, None)
    cfg.default_hooks.pop('checkpoint', None)
    runner = Runner.from_cfg(cfg)
    bn = runner.model.backbone.bn1
    before = bn.running_mean.clone()
    runner.test()
    assert not torch.allclose(bn.running_mean, before)  # recalibrated
    assert not bn.training
    head = runner.model.head
    assert torch.allclose(head.class_means.norm(dim=1), torch.ones(10), atol=1e-5)


def small_crt_cfg(cifar10_jpeg_root, work_dir, shuffle=True, custom_hooks=()):
    """A one-epoch cRT run (DecoupledClassifier) on a saved random stage-1 model, which is
    returned too."""
    cfg = small_stage1_cfg(cifar10_jpeg_root, work_dir)
    torch.manual_seed(0)
    stage1 = MODELS.build(cfg.model)
    stage1.init_weights()
    torch.save({'state_dict': stage1.state_dict()}, work_dir / 'stage1.pth')
    backbone = dict(cfg.model.backbone, init_cfg=dict(
        type='Pretrained', checkpoint=str(work_dir / 'stage1.pth'), prefix='backbone.'))
    cfg.model = dict(cfg.model, type='DecoupledClassifier', backbone=backbone)
    cfg.train_dataloader.sampler = dict(type='DefaultSampler', shuffle=shuffle)
    cfg.train_cfg = dict(by_epoch=True, max_epochs=1, val_interval=10)
    cfg.optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=5e-4))
    cfg.param_scheduler = []
    cfg.custom_hooks = list(custom_hooks)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=10)
    return cfg, stage1


def test_crt_trains_only_the_head_in_runner(cifar10_jpeg_root, tmp_path):
    cfg, stage1 = small_crt_cfg(cifar10_jpeg_root, tmp_path)
    runner = Runner.from_cfg(cfg)
    runner.train()
    model = runner.model
    for k, v in model.backbone.state_dict().items():
        assert torch.equal(v, stage1.backbone.state_dict()[k]), k
    assert not torch.equal(model.head.fc.weight, stage1.head.fc.weight)


def test_tau_norm_sweep_model_uses_the_config_preprocessor(cifar10_jpeg_root, tmp_path):
    """The sweep builds the model as the Runner does: with the config's top-level
    data_preprocessor (normalisation and BGR->RGB). Without it a trained stage-1 model sees raw
    pixels and every tau scores at chance level."""
    import importlib.util
    cfg = small_stage1_cfg(cifar10_jpeg_root, tmp_path)
    stage1 = MODELS.build(cfg.model)
    torch.save({'state_dict': stage1.state_dict()}, tmp_path / 'stage1.pth')
    spec = importlib.util.spec_from_file_location('tau_norm_sweep',
                                                  REPO / 'tools' / 'tau_norm_sweep.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    model = tool.build_model(cfg, str(tmp_path / 'stage1.pth'), 'cpu')
    pre = cfg.data_preprocessor
    assert torch.allclose(model.data_preprocessor.mean.flatten(), torch.tensor(pre.mean))
    assert torch.allclose(model.data_preprocessor.std.flatten(), torch.tensor(pre.std))
    assert model.data_preprocessor.to_rgb == pre.to_rgb


def test_bn_recalibration_hook_replaces_stats_with_the_stage2_average(cifar10_jpeg_root,
                                                                       tmp_path):
    """BNRecalibrationHook before cRT: the frozen backbone's running statistics become the
    average of the per-batch statistics of the stage-2 images (naive reference: the same batches
    through a copy with cumulative BatchNorm averaging); weights are untouched; the head then
    trains on features normalised with them."""
    import copy
    from torch.nn.modules.batchnorm import _BatchNorm
    cfg, stage1 = small_crt_cfg(cifar10_jpeg_root, tmp_path, shuffle=False,
                                custom_hooks=[dict(type='BNRecalibrationHook')])
    runner = Runner.from_cfg(cfg)
    runner.train()
    model = runner.model

    ref = copy.deepcopy(stage1)
    for m in ref.modules():
        if isinstance(m, _BatchNorm):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the batches
    ref.train()
    with torch.no_grad():
        for data in runner.train_dataloader:
            data = model.data_preprocessor(data, False)
            ref.backbone(data['inputs'])
    for k, v in model.backbone.state_dict().items():
        if 'running_mean' in k or 'running_var' in k:
            torch.testing.assert_close(v, ref.backbone.state_dict()[k], atol=1e-4, rtol=1e-4)
            assert not torch.allclose(v, stage1.backbone.state_dict()[k]), k
        elif 'num_batches' not in k:
            assert torch.equal(v, stage1.backbone.state_dict()[k]), k
    assert not model.backbone.training  # frozen backbone back in eval mode

