"""LVIS v1 configs (Faster / Mask R-CNN R50-FPN, repeat-factor sampling, Seesaw loss, decoupled
stage 2) build on a tiny LVIS-format file; repeat factors and LVIS's frequency split."""
import copy
import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip('mmdet')
pytest.importorskip('lvis')
torch = pytest.importorskip('torch')

from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

import mmlt.det  # noqa: E402,F401  (registers into mmdet, patches lvis for numpy 2)

REPO = Path(__file__).resolve().parents[1]
LVIS_CONFIGS = sorted((REPO / 'configs' / 'det' / 'lvis').glob('*.py'))
# category id -> LVIS frequency group of the tiny file; every other category is rare and absent
GROUPS = {1: 'f', 2: 'f', 500: 'c', 1000: 'r'}
# the categories of the 8 images (real Tiny-ImageNet images standing for COCO's)
IMAGE_CATS = [[1], [1], [1], [1, 500], [500], [1000], [2], [2]]


@pytest.fixture(scope='module')
def tiny_lvis(tiny_imagenet_root, tmp_path_factory):
    """An LVIS v1-format file over 8 real 64x64 images, the 1,203 LVIS v1 categories."""
    from mmdet.datasets import LVISV1Dataset
    root = Path(tiny_imagenet_root)
    wnid = sorted((root / 'train').iterdir())[0].name
    lines = (root / 'train' / wnid / f'{wnid}_boxes.txt').read_text().split('\n')[:len(IMAGE_CATS)]
    images, anns = [], []
    for img_id, (line, cats) in enumerate(zip(lines, IMAGE_CATS), 1):
        name, x0, y0, x1, y1 = line.split()
        x0, y0, x1, y1 = int(x0), int(y0), int(x1) + 1, int(y1) + 1
        images.append(dict(id=img_id, width=64, height=64, neg_category_ids=[],
                           not_exhaustive_category_ids=[],
                           coco_url=f'http://images.cocodataset.org/train/{wnid}/images/{name}'))
        for j, cat in enumerate(cats):
            box = [x0, y0, x1 - x0, y1 - y0] if j == 0 else [0, 0, 20, 24]
            x, y, w, h = box
            anns.append(dict(id=len(anns) + 1, image_id=img_id, category_id=cat, bbox=box,
                             area=w * h, segmentation=[[x, y, x + w, y, x + w, y + h, x, y + h]]))
    counts = Counter(c for cats in IMAGE_CATS for c in set(cats))
    cats = [dict(id=i + 1, name=n, synset=n, frequency=GROUPS.get(i + 1, 'r'),
                 image_count=counts.get(i + 1, 0), instance_count=counts.get(i + 1, 0))
            for i, n in enumerate(LVISV1Dataset.METAINFO['classes'])]
    path = tmp_path_factory.mktemp('lvis') / 'lvis_v1_tiny.json'
    json.dump(dict(info={}, licenses=[], images=images, annotations=anns, categories=cats),
              open(path, 'w'))
    return dict(ann_file=str(path), data_root=str(root) + '/')


def _on_tiny(dataset_cfg: dict, data: dict) -> dict:
    cfg = copy.deepcopy(dataset_cfg)
    inner = cfg.get('dataset', cfg)
    inner.update(data_root=data['data_root'], ann_file=data['ann_file'])
    return cfg


def test_lvis_numpy2_fix():
    """lvis 0.5.3's LVISEval calls np.float (gone since numpy 1.24): mmlt.det gives its module
    a numpy with the alias; numpy itself is untouched."""
    from lvis import eval as lvis_eval
    from mmlt.utils.compat import patch_lvis_numpy2
    assert patch_lvis_numpy2() and patch_lvis_numpy2()  # installed, idempotent
    assert not hasattr(np, 'float')
    assert lvis_eval.np.float is float and lvis_eval.np.cumsum is np.cumsum
    assert np.cumsum([True, True]).astype(dtype=lvis_eval.np.float).tolist() == [1.0, 2.0]


@pytest.mark.parametrize('path', LVIS_CONFIGS, ids=lambda p: p.stem)
def test_lvis_config_builds(path, tiny_lvis):
    """Model, training set (through its pipeline), evaluator and hooks of every LVIS config."""
    from mmdet.registry import DATASETS, HOOKS, METRICS, MODELS
    cfg = Config.fromfile(str(path))
    init_default_scope(cfg.default_scope)
    assert 'mmlt.det' in cfg.custom_imports['imports']
    name = path.stem
    model = MODELS.build(cfg.model)
    head = model.roi_head.bbox_head
    assert head.num_classes == 1203 and model.backbone.depth == 50
    assert hasattr(model.roi_head, 'mask_head') == name.startswith('mask-rcnn')
    if 'seesaw' in name:
        assert type(head.loss_cls).__name__ == 'SeesawLoss'
        assert head.fc_cls.out_features == 1203 + 2  # seesaw's objectness channels
        scores = head.fc_cls(torch.randn(6, head.fc_cls.in_features))
        loss = head.loss_cls(scores, torch.tensor([0, 1, 499, 999, 1203, 1203]),
                             torch.ones(6))
        assert all(torch.isfinite(v) for v in loss.values())
    repeated = 'sample1e-3' in name
    dataset = DATASETS.build(_on_tiny(cfg.train_dataloader.dataset, tiny_lvis))
    assert type(dataset).__name__ == ('ClassBalancedDataset' if repeated else 'LVISV1Dataset')
    if repeated:
        assert dataset.oversample_thr == 1e-3
    item = dataset[3]
    assert item['inputs'].shape[0] == 3 and len(item['data_samples'].gt_instances) == 2
    assert ('masks' in item['data_samples'].gt_instances) == name.startswith('mask-rcnn')
    evaluator = METRICS.build(dict(cfg.val_evaluator, ann_file=tiny_lvis['ann_file']))
    assert type(evaluator).__name__ == 'LVISMetric'
    assert evaluator.metrics == (['bbox', 'segm'] if name.startswith('mask-rcnn') else ['bbox'])
    if 'crt-cls' in name:
        assert cfg.load_from and cfg.model.backbone.init_cfg is None
        hook = HOOKS.build(cfg.custom_hooks[0])
        assert hook.freeze(model) == head.fc_cls.weight.numel() + head.fc_cls.bias.numel()


def test_lvis_repeat_factor_sampling(tiny_lvis):
    """ClassBalancedDataset's repeats on LVIS: r_c = max(1, sqrt(t / f_c)) with f_c the fraction
    of images holding c, image factor max over its categories, ceil(factor) copies."""
    from mmdet.registry import DATASETS
    cfg = Config.fromfile(str(REPO / 'configs' / 'det' / 'lvis' /
                              'faster-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py'))
    init_default_scope('mmdet')
    thr = 0.9  # the tiny file's f_c are 1/8 ... 4/8
    ds_cfg = _on_tiny(cfg.train_dataloader.dataset, tiny_lvis)
    ds_cfg.update(oversample_thr=thr, lazy_init=True)
    ds_cfg.dataset.pipeline = []
    cbd = DATASETS.build(ds_cfg)
    cbd.full_init()
    n = len(IMAGE_CATS)
    f = Counter(c for cats in IMAGE_CATS for c in set(cats))
    r_c = {c: max(1.0, math.sqrt(thr / (k / n))) for c, k in f.items()}
    copies = [math.ceil(max(r_c[c] for c in cats)) for cats in IMAGE_CATS]
    assert copies == [2, 2, 2, 2, 2, 3, 2, 2]  # the image of the rare category 1000: 3
    assert cbd.repeat_indices == [i for i, k in enumerate(copies) for _ in range(k)]
    assert [cbd.dataset.get_data_info(i)['img_id'] for i in range(n)] == list(range(1, n + 1))


def _predictions(lvis_file: str, wrong_cat=None):
    """Perfect predictions (boxes and masks) of the tiny file; ``wrong_cat``'s boxes get the
    label of category 2."""
    coco = json.load(open(lvis_file))
    samples = []
    for img in coco['images']:
        anns = [a for a in coco['annotations'] if a['image_id'] == img['id']]
        boxes = torch.tensor([[x, y, x + w, y + h] for x, y, w, h in (a['bbox'] for a in anns)],
                             dtype=torch.float32)
        masks = torch.zeros(len(anns), 64, 64, dtype=torch.bool)
        for k, (x, y, x2, y2) in enumerate(boxes.int().tolist()):
            masks[k, y:y2, x:x2] = True
        labels = [(2 if a['category_id'] == wrong_cat else a['category_id']) - 1 for a in anns]
        samples.append(dict(img_id=img['id'], ori_shape=(64, 64), pred_instances=dict(
            bboxes=boxes, scores=torch.full((len(anns),), 0.9), labels=torch.tensor(labels),
            masks=masks)))
    return samples


@pytest.mark.parametrize('config', ['faster-rcnn_r50_fpn_ms-1x_lvis-v1.py',
                                    'mask-rcnn_r50_fpn_ms-1x_lvis-v1.py'])
def test_lvis_metric_frequency_split(tiny_lvis, config):
    """LVISMetric (lvis under numpy 2) groups by the categories' ``frequency``: perfect boxes
    give AP_r = AP_c = AP_f = 1; mislabelling the one rare category's box drops AP_r only."""
    from mmdet.registry import METRICS
    cfg = Config.fromfile(str(REPO / 'configs' / 'det' / 'lvis' / config))
    init_default_scope('mmdet')
    from mmdet.datasets import LVISV1Dataset
    meta = dict(classes=LVISV1Dataset.METAINFO['classes'])
    for wrong, expected in ((None, dict(APr=1, APc=1, APf=1)), (1000, dict(APr=0, APc=1, APf=1))):
        metric = METRICS.build(dict(cfg.val_evaluator, ann_file=tiny_lvis['ann_file']))
        metric.dataset_meta = meta
        metric.process({}, _predictions(tiny_lvis['ann_file'], wrong))
        results = metric.evaluate(len(IMAGE_CATS))
        for kind in metric.metrics:
            got = {k: results[f'lvis/{kind}_{k}'] for k in expected}
            assert got == pytest.approx(expected, abs=1e-3), (kind, wrong, results)
