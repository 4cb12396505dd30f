"""Detection training on real Tiny-ImageNet-LT images: a stage-1 classifier as the backbone,
the decoupled box-classifier stage with repeat-factor sampling, the tools, bad input."""
import copy
import importlib.util
import json
import math
import os.path as osp
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip('mmdet')
torch = pytest.importorskip('torch')

from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import mmlt.det  # noqa: E402,F401  (registers into mmdet)
from mmlt.det import (CifarStemResNet, FreezeAllButHook,  # noqa: E402
                      build_tiny_imagenet_lt_det, check_pretrained)
from mmlt.det.datasets import build_tiny_imagenet_lt_det_mosaic  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DET = REPO / 'configs' / 'det'
STAGE1_CLS = REPO / 'configs' / 'decoupled' / 'ce_resnet18_1xb128-200e_tiny-imagenet-lt-r100.py'
FRCNN_S1 = DET / 'faster-rcnn_r18-cifar_fpn_ce-stage1_cpu-4e_tiny-imagenet-lt-r100.py'
FRCNN_S2 = DET / 'faster-rcnn_r18-cifar_fpn_crt-cls_rfs-2e_tiny-imagenet-lt-r100.py'
RETINA_S2 = DET / 'retinanet_r18-cifar_fpn_crt-cls_rfs-2e_tiny-imagenet-lt-r100.py'
# training subset: (category id, images); LVIS groups of the full LT training counts:
# 1..70 frequent, 71..165 common, 166..200 rare at IR 100
TRAIN_PICK = ((1, 8), (40, 4), (100, 2), (170, 1), (200, 1))
VAL_PICK = ((1, 1), (100, 1), (170, 1))  # one class of each group


# ----------------------------------------------------------------------------- fixtures
def _subset(coco: dict, pick, per_image_order=True) -> dict:
    """``coco`` restricted to the first n images of each (category, n) of ``pick``."""
    by_img = {a['image_id']: a for a in coco['annotations']}
    keep = []
    for cat, n in pick:
        ids = [i['id'] for i in coco['images'] if by_img[i['id']]['category_id'] == cat][:n]
        assert len(ids) == n
        keep += ids
    keep = set(keep)
    return dict(info=coco['info'], categories=coco['categories'],
                images=[i for i in coco['images'] if i['id'] in keep],
                annotations=[a for a in coco['annotations'] if a['image_id'] in keep])


@pytest.fixture(scope='module')
def det_data(tiny_imagenet_root, tmp_path_factory):
    """Subset JSONs of the real LT training / val sets, and a random mmlt stage-1 checkpoint."""
    out = tmp_path_factory.mktemp('det_train')
    root = str(tiny_imagenet_root)
    train = build_tiny_imagenet_lt_det(root, 'train', read_sizes=False)
    val = build_tiny_imagenet_lt_det(root, 'val', read_sizes=False)
    paths = {}
    for name, coco, pick in (('train', train, TRAIN_PICK), ('val', val, VAL_PICK),
                             ('train2', train, ((1, 1), (200, 1)))):
        paths[name] = str(out / f'{name}.json')
        json.dump(_subset(coco, pick), open(paths[name], 'w'))

    # the mmlt Tiny-ImageNet CE stage-1 classifier (ResNet_CIFAR-18 + linear head), random weights
    init_default_scope('mmpretrain')
    from mmpretrain.registry import MODELS as CLS_MODELS
    classifier = CLS_MODELS.build(Config.fromfile(str(STAGE1_CLS)).model)
    classifier.init_weights()
    gen = torch.Generator().manual_seed(0)
    state = {}
    for k, v in classifier.state_dict().items():
        if v.is_floating_point():  # no default init value survives (BN weights 1, biases 0)
            v = torch.rand(v.shape, generator=gen) + 0.5 if 'running_var' in k else \
                torch.randn(v.shape, generator=gen) * 0.05
        state[k] = v
    paths['stage1'] = str(out / 'ce_stage1.pth')
    torch.save(dict(meta=dict(note='random mmlt CE stage-1'), state_dict=state), paths['stage1'])
    paths['stage1_state'] = state
    paths['root'] = root + '/'
    paths['out'] = out
    return paths


def _small(cfg: Config, data: dict, work_dir, iters: int, batch: int = 2) -> Config:
    """``cfg`` on the subsets: a few constant-lr iterations, no checkpoint, no validation
    during training, fewer proposals and RoIs (CPU time)."""
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = str(work_dir)
    cfg.launcher = 'none'
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.param_scheduler = []
    if 'rpn_proposal' in cfg.model.train_cfg:
        cfg.model.train_cfg.rpn_proposal.max_per_img = 100
        cfg.model.train_cfg.rcnn.sampler.num = 32
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.log_processor = dict(type='LogProcessor', window_size=1, by_epoch=False)
    cfg.env_cfg.dist_cfg = dict(backend='gloo')
    cfg.randomness = dict(seed=0)
    loader = cfg.train_dataloader
    loader.update(batch_size=batch, num_workers=0, persistent_workers=False)
    inner = loader.dataset.get('dataset', loader.dataset)
    inner.update(data_root=data['root'], ann_file=data['train'])
    cfg.test_dataloader.update(batch_size=3, num_workers=0, persistent_workers=False)
    cfg.test_dataloader.dataset.update(data_root=data['root'], ann_file=data['val'])
    cfg.test_evaluator.update(ann_file=data['val'], out_dir=str(work_dir))
    return cfg


def _losses(runner) -> np.ndarray:
    return np.asarray(runner.message_hub.get_scalar('train/loss').data[0], dtype=float)


# ----------------------------------------------------------------------------- stage 1
def test_stage1_checkpoint_keys_fit_the_detector_backbone(det_data):
    """The mmlt classifier's backbone keys are CifarStemResNet's (and mmdet's ResNet-18's but for
    the stem shape, which is why the configs use CifarStemResNet)."""
    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    state = det_data['stage1_state']
    cls_keys = {k[len('backbone.'):]: v.shape for k, v in state.items()
                if k.startswith('backbone.')}
    ours = {k: v.shape for k, v in CifarStemResNet(depth=18).state_dict().items()}
    assert cls_keys == ours
    mmdet_r18 = MODELS.build(dict(type='ResNet', depth=18)).state_dict()
    mmdet_r18 = {k: v.shape for k, v in mmdet_r18.items()}
    assert set(mmdet_r18) == set(ours)
    assert [k for k in ours if ours[k] != mmdet_r18[k]] == ['conv1.weight']  # 3x3 vs 7x7 stem


def test_dscl_r50_checkpoint_initialises_the_lvis_detector_exactly(tmp_path):
    """The LVIS DSCL configs start mmdet's ResNet-50 from an mmlt DSCL + PBSD ImageNet-LT
    checkpoint: after init every backbone tensor equals the query encoder's in the file (same
    keys both ways; the key encoder, queue and heads in the file are ignored)."""
    init_default_scope('mmpretrain')
    from mmpretrain.registry import MODELS as CLS_MODELS
    dscl = CLS_MODELS.build(Config.fromfile(str(
        REPO / 'configs' / 'dscl' / 'dscl-pbsd_r50_2xb128-coslr-200e_imagenet-lt.py')).model)
    gen = torch.Generator().manual_seed(1)
    state = {k: (torch.rand(v.shape, generator=gen) + 0.5 if 'running_var' in k else
                 torch.randn(v.shape, generator=gen) * 0.05) if v.is_floating_point() else v
             for k, v in dscl.state_dict().items()}
    assert any(k.startswith('encoder_k.') for k in state) and 'queue.feats' in state
    ckpt = tmp_path / 'dscl_r50.pth'
    torch.save(dict(state_dict=state), ckpt)

    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    for name in ('faster-rcnn', 'mask-rcnn'):
        cfg = Config.fromfile(str(
            DET / 'lvis' / f'{name}_r50-dscl-pbsd-imagenet-lt_fpn_sample1e-3_ms-1x_lvis-v1.py'))
        cfg.model.backbone.init_cfg.checkpoint = str(ckpt)
        detector = MODELS.build(cfg.model)
        detector.init_weights()
        loaded = detector.backbone.state_dict()
        expected = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
        assert set(loaded) == set(expected)
        assert all(torch.equal(loaded[k], expected[k]) for k in expected), name


def test_train_faster_rcnn_from_mmlt_stage1(det_data, tmp_path):
    """Faster R-CNN R18-CIFAR-FPN from the stage-1 checkpoint on real images: the backbone loads
    the checkpoint exactly, the loss falls, the frozen stem stays the checkpoint's, and
    LongTailCocoMetric reports AP_r / AP_c / AP_f."""
    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    cfg = Config.fromfile(str(FRCNN_S1))
    cfg.model.backbone.init_cfg.checkpoint = det_data['stage1']
    # what Runner.train's init_weights loads: the checkpoint's backbone, every key, exactly
    detector = MODELS.build(cfg.model)
    detector.init_weights()
    ckpt = {k[len('backbone.'):]: v for k, v in det_data['stage1_state'].items()
            if k.startswith('backbone.')}
    loaded = detector.backbone.state_dict()
    assert set(loaded) == set(ckpt) and len(ckpt) == 120
    assert all(torch.equal(loaded[k], ckpt[k]) for k in ckpt)

    cfg = _small(cfg, det_data, tmp_path, iters=5)
    runner = Runner.from_cfg(cfg)
    runner.train()
    losses = _losses(runner)
    assert len(losses) == 5 and np.isfinite(losses).all()
    assert losses[-2:].mean() < 0.7 * losses[:2].mean(), losses
    after = runner.model.backbone.state_dict()
    frozen = [k for k in ckpt if k.startswith(('conv1.', 'bn1.', 'layer1.'))]
    assert frozen and all(torch.equal(after[k], ckpt[k]) for k in frozen)  # frozen_stages=1
    assert not torch.equal(after['layer4.1.conv2.weight'], ckpt['layer4.1.conv2.weight'])

    metrics = runner.test()
    for key in ('coco/bbox_mAP', 'coco/bbox_AP_r', 'coco/bbox_AP_c', 'coco/bbox_AP_f'):
        assert key in metrics and 0 <= metrics[key] <= 1, (key, metrics)
    assert osp.isfile(osp.join(tmp_path, 'per_class_ap.csv'))
    runner.save_checkpoint(str(tmp_path), 'stage1_det.pth')
    det_data['stage1_det'] = str(tmp_path / 'stage1_det.pth')


# ----------------------------------------------------------------------------- stage 2
def _expected_repeats(coco: dict, thr: float):
    """LVIS's repeat factors: r_c = max(1, sqrt(t / f_c)), r_I = max_c r_c, ceil(r_I) copies."""
    images = [i['id'] for i in coco['images']]
    cats_of = {i: set() for i in images}
    for a in coco['annotations']:
        cats_of[a['image_id']].add(a['category_id'])
    n_img = Counter(c for cats in cats_of.values() for c in cats)
    r_c = {c: max(1.0, math.sqrt(thr / (n / len(images)))) for c, n in n_img.items()}
    return [math.ceil(max(r_c[c] for c in cats_of[i])) for i in images], cats_of, images


def test_decoupled_stage2_trains_only_the_classifier(det_data, tmp_path):
    """Stage 2 (FreezeAllButHook + ClassBalancedDataset): from the stage-1 detector, only
    roi_head.bbox_head.fc_cls changes, every other parameter and buffer stays bit-identical;
    the repeat indices follow r_c = max(1, sqrt(t / f_c)) and the sampler draws them."""
    if 'stage1_det' not in det_data:
        pytest.skip('needs test_train_faster_rcnn_from_mmlt_stage1')
    cfg = Config.fromfile(str(FRCNN_S2))
    assert cfg.train_dataloader.dataset.type == 'ClassBalancedDataset'
    assert cfg.custom_hooks[0].trainable == ['roi_head.bbox_head.fc_cls']
    thr = 0.3  # the subset's frequencies are 1/16 ... 8/16: repeats 1 to 3
    cfg.train_dataloader.dataset.oversample_thr = thr
    cfg.load_from = det_data['stage1_det']
    cfg = _small(cfg, det_data, tmp_path, iters=2)
    runner = Runner.from_cfg(cfg)
    runner.train()
    before = torch.load(det_data['stage1_det'], map_location='cpu',
                        weights_only=False)['state_dict']
    after = runner.model.state_dict()
    assert set(before) == set(after)
    changed = sorted(k for k in before if not torch.equal(before[k], after[k]))
    assert changed == ['roi_head.bbox_head.fc_cls.bias', 'roi_head.bbox_head.fc_cls.weight']
    assert all(p.requires_grad == n.startswith('roi_head.bbox_head.fc_cls.')
               for n, p in runner.model.named_parameters())

    # repeat-factor sampling
    cbd = runner.train_loop.dataloader.dataset
    coco = json.load(open(det_data['train']))
    copies, cats_of, images = _expected_repeats(coco, thr)
    assert cbd.repeat_indices == [i for i, n in enumerate(copies) for _ in range(n)]
    assert set(copies) == {1, 2, 3}  # frequent once, rarer classes up to 3 times
    base = cbd.dataset
    assert [base.get_data_info(i)['img_id'] for i in range(len(base))] == images
    drawn = list(runner.train_loop.dataloader.sampler)  # one epoch of the (shuffling) sampler
    assert sorted(drawn) == list(range(len(cbd)))
    per_class = Counter(c for i in drawn for c in cats_of[images[cbd.repeat_indices[i]]])
    expected = Counter()
    for img, n in zip(images, copies):
        for c in cats_of[img]:
            expected[c] += n
    assert per_class == expected
    assert per_class[1] == 8 and per_class[200] == 3  # 8 frequent images once, the rare one 3x


def test_rfs_and_seesaw_stage1_configs(det_data, tmp_path):
    """The Tiny-ImageNet-LT counterparts of the LVIS re-balancing configs: repeat-factor sampling
    from the start (the repeats of the stage-2 config) and the Seesaw loss with its 200 + 2
    outputs; one real training step each on the subset."""
    rfs = Config.fromfile(str(DET / 'faster-rcnn_r18-cifar_fpn_ce-stage1_rfs_cpu-4e_tiny-imagenet-lt-r100.py'))
    retina_rfs = Config.fromfile(str(
        DET / 'retinanet_r18-cifar_fpn_ce-stage1_rfs_cpu-4e_tiny-imagenet-lt-r100.py'))
    for cfg, stage2 in ((rfs, FRCNN_S2), (retina_rfs, RETINA_S2)):
        assert cfg.train_dataloader.dataset.type == 'ClassBalancedDataset'
        # the decoupled classifier stage samples as the RFS stage 1 it inherits
        assert cfg.train_dataloader == Config.fromfile(str(stage2)).train_dataloader
        assert cfg.train_dataloader.dataset.oversample_thr == 0.01
    seesaw = Config.fromfile(str(
        DET / 'faster-rcnn_r18-cifar_fpn_ce-stage1_seesaw-loss_cpu-4e_tiny-imagenet-lt-r100.py'))
    for name, cfg, dataset in (('rfs', rfs, 'ClassBalancedDataset'),
                               ('retina-rfs', retina_rfs, 'ClassBalancedDataset'),
                               ('seesaw', seesaw, 'TinyImageNetLTDet')):
        cfg.model.backbone.init_cfg.checkpoint = det_data['stage1']
        runner = Runner.from_cfg(_small(cfg, det_data, tmp_path / name, iters=1))
        runner.train()
        assert np.isfinite(_losses(runner)).all()
        assert type(runner.train_loop.dataloader.dataset).__name__ == dataset
    head = runner.model.roi_head.bbox_head
    assert type(head.loss_cls).__name__ == 'SeesawLoss' and head.fc_cls.out_features == 202


def test_freeze_hook_retinanet_and_bad_input(det_data):
    """RetinaNet's stage 2 trains bbox_head.retina_cls only (re-initialised to the focal prior);
    unknown names and bad arguments are errors."""
    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    cfg = Config.fromfile(str(RETINA_S2))
    model = MODELS.build(cfg.model)
    hook_cfg = dict(cfg.custom_hooks[0])
    hook_cfg.pop('type')
    hook = FreezeAllButHook(**hook_cfg)
    hook.freeze(model)
    trainable = sorted(n for n, p in model.named_parameters() if p.requires_grad)
    assert trainable == ['bbox_head.retina_cls.bias', 'bbox_head.retina_cls.weight']
    hook.reinit(model)
    assert torch.allclose(model.bbox_head.retina_cls.bias,
                          torch.tensor(-math.log((1 - 0.01) / 0.01)))
    model.train()
    hook.set_eval(model)
    assert not any(m.training for m in model.modules()
                   if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))

    with pytest.raises(ValueError, match=r"'roi_head.bbox_head.fc_cls' matches no parameter.*"
                       r'retina_cls'):
        FreezeAllButHook(trainable='roi_head.bbox_head.fc_cls').freeze(model)
    with pytest.raises(ValueError, match='non-empty'):
        FreezeAllButHook(trainable=[])
    with pytest.raises(ValueError, match='reinit_cfg'):
        FreezeAllButHook(trainable='bbox_head.retina_cls', reinit_cfg='Normal')
    with pytest.raises(ValueError, match='needs module names'):
        FreezeAllButHook(trainable='bbox_head.retina_cls.bias',
                         reinit_cfg=dict(type='Constant', val=0)).reinit(model)


# ----------------------------------------------------------------------------- bad checkpoints
def test_pretrained_checkpoint_errors_name_file_and_prefix(det_data, tmp_path):
    init_default_scope('mmdet')
    # a backbone-only checkpoint asked for with prefix 'backbone.'
    bare = tmp_path / 'backbone_only.pth'
    torch.save({k[len('backbone.'):]: v for k, v in det_data['stage1_state'].items()
                if k.startswith('backbone.')}, bare)
    net = CifarStemResNet(depth=18, init_cfg=dict(type='Pretrained', prefix='backbone.',
                                                  checkpoint=str(bare)))
    with pytest.raises(ValueError, match=rf"{bare}: no key starts with the prefix 'backbone\.'"
                       r".*'conv1\.'"):
        net.init_weights()
    # without the prefix it loads exactly
    net = CifarStemResNet(depth=18, init_cfg=dict(type='Pretrained', checkpoint=str(bare)))
    net.init_weights()
    assert torch.equal(net.layer2[0].conv1.weight,
                       det_data['stage1_state']['backbone.layer2.0.conv1.weight'])
    # an ImageNet-stem (7x7) checkpoint does not fit the CIFAR stem: named, not skipped
    from mmdet.registry import MODELS
    r18 = MODELS.build(dict(type='ResNet', depth=18))
    wrong = tmp_path / 'in1k_stem.pth'
    torch.save(dict(state_dict={'backbone.' + k: v for k, v in r18.state_dict().items()}), wrong)
    net = CifarStemResNet(depth=18, init_cfg=dict(type='Pretrained', prefix='backbone.',
                                                  checkpoint=str(wrong)))
    with pytest.raises(ValueError, match=rf"{wrong} \(prefix 'backbone\.'\).*conv1\.weight: "
                       r'checkpoint \(64, 3, 7, 7\) vs model \(64, 3, 3, 3\)'):
        net.init_weights()
    check_pretrained(net, str(wrong), 'backbone.', strict=False)  # what mmengine would load
    missing = tmp_path / 'nope.pth'
    with pytest.raises(FileNotFoundError, match=str(missing)):
        check_pretrained(net, str(missing), 'backbone.')


# ----------------------------------------------------------------------------- mosaic dataset
def test_mosaic_dataset_and_errors(det_data, tmp_path):
    init_default_scope('mmdet')
    from mmdet.registry import DATASETS
    cfg = Config.fromfile(str(DET / 'faster-rcnn_r18-cifar_fpn_scratch_cpu-4e_'
                                    'tiny-imagenet-lt-r100-mosaic.py'))
    ds_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    assert ds_cfg.type == 'TinyImageNetLTDetMosaic'
    source = json.load(open(det_data['train']))
    ann = tmp_path / 'mosaic.json'
    build_tiny_imagenet_lt_det_mosaic(det_data['root'], out_dir=str(tmp_path / 'm'), source=source,
                                      out_file=str(ann))
    ds_cfg.update(data_root=det_data['root'], ann_file=str(ann))
    ds = DATASETS.build(ds_cfg)
    assert len(ds) == 4  # 16 images, 2x2 per canvas
    item = ds[0]
    assert tuple(item['inputs'].shape) == (3, 128, 128)
    assert len(item['data_samples'].gt_instances) == 4
    with pytest.raises(ValueError, match="mosaic built with k=2 but the dataset asks for "
                       'mosaic_k=3'):
        DATASETS.build(dict(ds_cfg, mosaic_k=3))
    with pytest.raises(ValueError, match='not a mosaic annotation file'):
        DATASETS.build(dict(ds_cfg, ann_file=det_data['train']))
    with pytest.raises(ValueError, match="mosaic is of the 'train' split"):
        DATASETS.build(dict(ds_cfg, split='val'))
    with pytest.raises(FileNotFoundError, match='--mosaic-k 2 --mosaic-canvas 128'):
        DATASETS.build(dict(ds_cfg, ann_file=str(tmp_path / 'none.json'), auto_build=False))


# ----------------------------------------------------------------------------- the tools
def _tool(name: str):
    spec = importlib.util.spec_from_file_location(f'det_{name}',
                                                  REPO / 'tools' / 'det' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_det_tools_run_a_config(det_data, tmp_path):
    """tools/det/train.py trains an mmdet config as it is (mmdet scope, pseudo_collate; mmlt's
    tools/train.py fills default_collate) and tools/det/test.py evaluates its checkpoint
    (run in-process: the same main() as the command line)."""
    common = [
        f"train_dataloader.dataset.data_root={det_data['root']}",
        f"train_dataloader.dataset.ann_file={det_data['train2']}",
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        f"test_dataloader.dataset.data_root={det_data['root']}",
        f"test_dataloader.dataset.ann_file={det_data['val']}",
        'test_dataloader.num_workers=0', 'test_dataloader.batch_size=3',
        f"test_evaluator.ann_file={det_data['val']}", f'test_evaluator.out_dir={tmp_path}',
        'model.train_cfg.rcnn.sampler.num=32',
    ]
    config = str(DET / 'faster-rcnn_r18-cifar_fpn_scratch_cpu-4e_tiny-imagenet-lt-r100.py')
    train = _tool('train')
    cfg = train.merge_args(Config.fromfile(config), train.parse_args(
        [config, '--work-dir', str(tmp_path), '--no-validate', '--cfg-options', *common,
         'train_cfg.max_epochs=1']))  # 2 images, batch 2: one iteration
    assert cfg.default_scope == 'mmdet' and 'collate_fn' not in cfg.train_dataloader
    assert cfg.train_dataloader.persistent_workers is False and cfg.val_cfg is None
    train.main([config, '--work-dir', str(tmp_path), '--no-validate', '--cfg-options', *common,
                'train_cfg.max_epochs=1'])
    ckpt = tmp_path / 'epoch_1.pth'
    assert ckpt.is_file()
    metrics = _tool('test').main([config, str(ckpt), '--work-dir', str(tmp_path),
                                  '--out', str(tmp_path / 'pred.pkl'),
                                  '--metrics-out', str(tmp_path / 'm' / 'metrics.json'),
                                  '--cfg-options', *common])
    assert {'coco/bbox_AP_r', 'coco/bbox_AP_c', 'coco/bbox_AP_f'} <= set(metrics)
    assert (tmp_path / 'pred.pkl').is_file()
    assert json.loads((tmp_path / 'm' / 'metrics.json').read_text()) == pytest.approx(
        {k: float(v) for k, v in metrics.items()}, nan_ok=True)


def test_imagenet_stem_backbone_loads_an_mmpretrain_resnet_classifier(tmp_path):
    """ImageNetStemResNet loads the 'backbone.' of an mmpretrain ResNet-18 classifier (the stage 1
    of ``det_results.py --stem imagenet``) exactly, and names a CIFAR-stem checkpoint's stem."""
    from mmpretrain.models.backbones import ResNet

    from mmlt.det import ImageNetStemResNet
    init_default_scope('mmdet')
    backbone = ResNet(depth=18)  # an mmpretrain classifier's backbone, as model.backbone.type
    torch.nn.init.normal_(backbone.layer3[1].conv2.weight)
    ckpt = tmp_path / 'ce_r18.pth'
    torch.save(dict(state_dict={**{'backbone.' + k: v for k, v in backbone.state_dict().items()},
                                'head.fc.weight': torch.zeros(200, 512)}), ckpt)
    net = ImageNetStemResNet(depth=18, frozen_stages=1, norm_eval=True, init_cfg=dict(
        type='Pretrained', prefix='backbone.', checkpoint=str(ckpt)))
    net.init_weights()
    for k, v in backbone.state_dict().items():
        assert torch.equal(net.state_dict()[k], v), k
    feats = net(torch.zeros(1, 3, 64, 64))
    assert [tuple(f.shape[-2:]) for f in feats] == [(16, 16), (8, 8), (4, 4), (2, 2)]
    cifar = tmp_path / 'cifar_stem.pth'
    torch.save(dict(state_dict={'backbone.' + k: v for k, v in
                                CifarStemResNet(depth=18).state_dict().items()}), cifar)
    net = ImageNetStemResNet(depth=18, init_cfg=dict(type='Pretrained', prefix='backbone.',
                                                     checkpoint=str(cifar)))
    with pytest.raises(ValueError, match=rf'{cifar} .*ImageNetStemResNet.*conv1\.weight: '
                       r'checkpoint \(64, 3, 3, 3\) vs model \(64, 3, 7, 7\)'):
        net.init_weights()
