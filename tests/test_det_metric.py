"""LongTailCocoMetric: hand-computed per-class AP, pycocotools' overall AP, frequency groups."""
import contextlib
import csv
import io
import json

import numpy as np
import pytest

pytest.importorskip('mmdet')
torch = pytest.importorskip('torch')

from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402

import mmlt.det  # noqa: E402,F401  (registers into mmdet)
from mmlt.det.evaluation import LongTailCocoMetric  # noqa: E402

NAMES = ('a', 'b', 'c', 'd', 'e')
# training images per class: a frequent, b common, c / d / e rare (LVIS: <= 10 < ... <= 100 <)
TRAIN_IMAGES = (150, 50, 5, 10, 1)


def _gt():
    """Six 64x64 images; a: images 1, 2; b: 3; c: 4; d: 5, 6; e: none."""
    boxes = {1: [('a', [4, 4, 20, 20])], 2: [('a', [10, 10, 30, 20])], 3: [('b', [0, 0, 64, 64])],
             4: [('c', [8, 8, 16, 16])], 5: [('d', [20, 20, 10, 10])], 6: [('d', [1, 2, 3, 4])]}
    cats = [dict(id=i + 1, name=n) for i, n in enumerate(NAMES)]
    images = [dict(id=i, file_name=f'{i}.jpg', width=64, height=64) for i in range(1, 7)]
    anns = []
    for img_id, items in boxes.items():
        for name, box in items:
            anns.append(dict(id=len(anns) + 1, image_id=img_id, category_id=NAMES.index(name) + 1,
                             bbox=box, area=box[2] * box[3], iscrowd=0))
    return dict(images=images, annotations=anns, categories=cats)


def _train_json(path, counts=TRAIN_IMAGES):
    """Training file: class j on counts[j] images; class a has two boxes on some (image count,
    not box count, is what LVIS's image_count and the groups use)."""
    images, anns = [], []
    for j, n in enumerate(counts):
        for _ in range(n):
            img_id = len(images) + 1
            images.append(dict(id=img_id, file_name=f't{img_id}.jpg', width=64, height=64))
            for _ in range(2 if j == 0 else 1):
                anns.append(dict(id=len(anns) + 1, image_id=img_id, category_id=j + 1,
                                 bbox=[0, 0, 8, 8], area=64, iscrowd=0))
    json.dump(dict(images=images, annotations=anns,
                   categories=[dict(id=i + 1, name=n) for i, n in enumerate(NAMES)]),
              open(path, 'w'))
    return str(path)


def _samples(dets, num_images=6):
    """Data samples of ``dets``: image id -> [(class name, [x, y, w, h], score)]."""
    samples = []
    for img_id in range(1, num_images + 1):
        items = dets.get(img_id, [])
        xyxy = [[x, y, x + w, y + h] for _, (x, y, w, h), _ in items]
        samples.append(dict(
            img_id=img_id, ori_shape=(64, 64),
            pred_instances=dict(
                bboxes=torch.tensor(xyxy, dtype=torch.float32).reshape(-1, 4),
                scores=torch.tensor([s for _, _, s in items], dtype=torch.float32),
                labels=torch.tensor([NAMES.index(n) for n, _, _ in items], dtype=torch.long))))
    return samples


HAND_DETS = {
    1: [('a', [4, 4, 20, 20], 0.9), ('e', [0, 0, 10, 10], 0.8)],  # e has no ground truth
    2: [('a', [10, 10, 30, 20], 0.7)],
    4: [('c', [40, 40, 10, 10], 0.95), ('c', [8, 8, 16, 16], 0.6)],  # FP first, then the TP
    5: [('d', [20, 20, 10, 10], 0.5)],  # d: one of its two boxes
}


def _run(metric, dets, num_images=6, classes=NAMES, **meta):
    metric.dataset_meta = dict(classes=classes, **meta)
    metric.process({}, _samples(dets, num_images))
    return metric.evaluate(num_images)


def _cocoeval_stats(gt_file, dets):
    """Plain pycocotools on the same detections (default parameters)."""
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(gt_file)
        res = [dict(image_id=i, category_id=NAMES.index(n) + 1, bbox=[float(v) for v in b],
                    score=s) for i, items in dets.items() for n, b, s in items]
        ev = COCOeval(gt, gt.loadRes(res), 'bbox')
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats


def _read_csv(path):
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def test_hand_computed_per_class_ap(tmp_path):
    gt_file = tmp_path / 'gt.json'
    json.dump(_gt(), open(gt_file, 'w'))
    from mmdet.registry import METRICS
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    metric = METRICS.build(dict(type='LongTailCocoMetric', ann_file=str(gt_file),
                                train_ann_file=_train_json(tmp_path / 'train.json'),
                                out_dir=str(tmp_path / 'out')))
    assert isinstance(metric, LongTailCocoMetric)
    res = _run(metric, HAND_DETS)
    # a: both boxes found first -> 1; b: nothing -> 0; c: FP (score .95) then TP -> precision
    # 0.5 at recall 1 -> 0.5 at every recall threshold; d: 1 of 2 boxes at precision 1 -> the
    # recall thresholds 0, 0.01, ..., 0.5 -> 51 / 101; e: no ground truth -> excluded.
    ap_d = float(np.mean(np.linspace(0, 1, 101) <= 0.5))
    assert ap_d == pytest.approx(51 / 101)
    expected = dict(a=1.0, b=0.0, c=0.5, d=ap_d)
    rows = {r['class']: r for r in _read_csv(tmp_path / 'out' / 'per_class_ap.csv')}
    assert list(rows) == list(NAMES)
    for name, ap in expected.items():
        assert float(rows[name]['AP']) == pytest.approx(ap, abs=1e-6)
        assert float(rows[name]['AP50']) == pytest.approx(ap, abs=1e-6)  # exact boxes
    assert rows['e']['AP'] == '' and rows['e']['num_gt'] == '0'
    assert [int(rows[n]['train_count']) for n in NAMES] == list(TRAIN_IMAGES)
    assert [rows[n]['group'] for n in NAMES] == ['f', 'c', 'r', 'r', 'r']
    assert [int(rows[n]['num_gt']) for n in NAMES] == [2, 1, 1, 2, 0]
    # the groups: frequent {a}, common {b}, rare {c, d} (e has no ground truth)
    assert res['coco/bbox_AP_f'] == pytest.approx(1.0)
    assert res['coco/bbox_AP_c'] == pytest.approx(0.0)
    assert res['coco/bbox_AP_r'] == pytest.approx((0.5 + ap_d) / 2)
    assert res['coco/bbox_AP50_r'] == pytest.approx((0.5 + ap_d) / 2)
    mean = float(np.mean(list(expected.values())))
    assert res['coco/bbox_mAP'] == pytest.approx(mean, abs=1e-12)
    assert res['coco/bbox_mAP_50'] == pytest.approx(mean, abs=1e-12)
    # pycocotools on the same detections
    stats = _cocoeval_stats(str(gt_file), HAND_DETS)
    assert res['coco/bbox_mAP'] == pytest.approx(stats[0], abs=1e-12)
    assert res['coco/bbox_mAP_50'] == pytest.approx(stats[1], abs=1e-12)
    png = (tmp_path / 'out' / 'per_class_ap.png').read_bytes()
    assert png[:8] == b'\x89PNG\r\n\x1a\n'


def test_random_detections_match_pycocotools(tmp_path):
    """Noisy detections on 40 images: AP = COCOeval's stats[0] = mean of the per-class APs over
    the classes with ground truth; AP_r/c/f = the group means of the CSV."""
    rng = np.random.RandomState(0)
    images, anns, dets = [], [], {}
    for img_id in range(1, 41):
        images.append(dict(id=img_id, file_name=f'{img_id}.jpg', width=64, height=64))
        for _ in range(rng.randint(1, 4)):
            c = int(rng.choice(4, p=[0.5, 0.3, 0.15, 0.05]))  # class e never has GT
            x, y = rng.randint(0, 40, 2)
            w, h = rng.randint(5, 24, 2)
            anns.append(dict(id=len(anns) + 1, image_id=img_id, category_id=c + 1,
                             bbox=[int(x), int(y), int(w), int(h)], area=int(w * h), iscrowd=0))
            if rng.rand() < 0.8:  # a jittered detection, sometimes with the wrong class
                jit = rng.uniform(-1.5, 1.5, 4)
                label = c if rng.rand() < 0.85 else int(rng.randint(5))
                dets.setdefault(img_id, []).append(
                    (NAMES[label], [float(x + jit[0]), float(y + jit[1]),
                                    float(max(1, w + jit[2])), float(max(1, h + jit[3]))],
                     float(rng.rand())))
        for _ in range(rng.randint(0, 3)):  # background false positives
            dets.setdefault(img_id, []).append(
                (NAMES[rng.randint(5)], [float(v) for v in rng.randint(0, 40, 2)] + [8.0, 8.0],
                 float(rng.rand())))
    counts = (300, 40, 12, 3, 2)
    cats = [dict(id=i + 1, name=n, image_count=counts[i]) for i, n in enumerate(NAMES)]
    gt_file = tmp_path / 'gt.json'
    json.dump(dict(images=images, annotations=anns, categories=cats), open(gt_file, 'w'))
    # counts from the categories' image_count, custom thresholds: r <= 3 < c <= 40 < f
    metric = LongTailCocoMetric(ann_file=str(gt_file), freq_thresholds=(3, 40),
                                out_dir=str(tmp_path))
    res = _run(metric, dets, num_images=40)
    stats = _cocoeval_stats(str(gt_file), dets)
    assert 0.1 < stats[0] < 0.95
    assert res['coco/bbox_mAP'] == pytest.approx(stats[0], abs=1e-12)
    assert res['coco/bbox_mAP_50'] == pytest.approx(stats[1], abs=1e-12)
    assert res['coco/bbox_mAP_75'] == pytest.approx(stats[2], abs=1e-12)
    rows = _read_csv(tmp_path / 'per_class_ap.csv')
    assert [r['group'] for r in rows] == ['f', 'c', 'c', 'r', 'r']
    ap = {r['class']: float(r['AP']) for r in rows if r['AP']}
    assert set(ap) == {'a', 'b', 'c', 'd'}
    assert np.mean(list(ap.values())) == pytest.approx(stats[0], abs=1e-6)
    assert res['coco/bbox_AP_f'] == pytest.approx(ap['a'], abs=1e-6)
    assert res['coco/bbox_AP_c'] == pytest.approx((ap['b'] + ap['c']) / 2, abs=1e-6)
    assert res['coco/bbox_AP_r'] == pytest.approx(ap['d'], abs=1e-6)


def test_counts_from_dataset_meta_without_ann_file(tmp_path):
    """No ann_file: the ground truth comes from the samples (as CocoMetric), the training
    counts from dataset_meta['class_counts'] (mmlt datasets set it)."""
    gt = _gt()
    samples = _samples(HAND_DETS)
    for s in samples:
        s['instances'] = [dict(bbox=[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2],
                                     a['bbox'][1] + a['bbox'][3]],
                               bbox_label=a['category_id'] - 1, ignore_flag=0)
                          for a in gt['annotations'] if a['image_id'] == s['img_id']]
    metric = LongTailCocoMetric(out_dir=str(tmp_path))
    metric.dataset_meta = dict(classes=NAMES, class_counts=list(TRAIN_IMAGES))
    metric.process({}, samples)
    res = metric.evaluate(6)
    ap_d = 51 / 101
    assert res['coco/bbox_AP_f'] == pytest.approx(1.0)
    assert res['coco/bbox_AP_c'] == pytest.approx(0.0)
    assert res['coco/bbox_AP_r'] == pytest.approx((0.5 + ap_d) / 2)
    assert res['coco/bbox_mAP'] == pytest.approx((1 + 0 + 0.5 + ap_d) / 4)


def test_no_detections_and_errors(tmp_path):
    gt_file = tmp_path / 'gt.json'
    json.dump(_gt(), open(gt_file, 'w'))
    metric = LongTailCocoMetric(ann_file=str(gt_file), class_counts=TRAIN_IMAGES)
    res = _run(metric, {})
    assert res['coco/bbox_mAP'] == 0 and res['coco/bbox_AP_r'] == 0 and res['coco/bbox_AP_f'] == 0

    metric = LongTailCocoMetric(ann_file=str(gt_file))
    with pytest.raises(ValueError, match='needs the training images per class'):
        _run(metric, HAND_DETS)

    bad = json.load(open(_train_json(tmp_path / 'train.json')))
    bad['annotations'][3]['category_id'] = 9
    json.dump(bad, open(tmp_path / 'bad.json', 'w'))
    with pytest.raises(ValueError, match=r"bad\.json: annotation 4 of image 't2\.jpg' has "
                                         r'category_id 9, not among the 5 categories'):
        LongTailCocoMetric(ann_file=str(gt_file), train_ann_file=str(tmp_path / 'bad.json'))

    other = json.load(open(tmp_path / 'train.json'))
    other['categories'][2]['name'] = 'z'
    json.dump(other, open(tmp_path / 'other.json', 'w'))
    metric = LongTailCocoMetric(ann_file=str(gt_file), train_ann_file=str(tmp_path / 'other.json'))
    with pytest.raises(ValueError, match=r"other\.json: no category named 'c'"):
        _run(metric, HAND_DETS)
    with pytest.raises(ValueError, match=r'0 <= rare_max <= common_max'):
        LongTailCocoMetric(ann_file=str(gt_file), freq_thresholds=(100, 10))
    with pytest.raises(KeyError, match="'bbox' or 'segm'"):
        LongTailCocoMetric(ann_file=str(gt_file), metric='proposal')


def test_tiny_imagenet_val_subset(tiny_imagenet_root, tmp_path):
    """Real categories: 400 val images of Tiny-ImageNet-LT (IR 100), perfect boxes for the
    frequent and common classes, none for the rare ones -> AP_f = AP_c = 1, AP_r = 0."""
    from mmlt.det.datasets import build_tiny_imagenet_lt_det
    val = build_tiny_imagenet_lt_det(tiny_imagenet_root, 'val', read_sizes=False)
    keep = {im['id'] for im in val['images'][:400]}
    sub = dict(val, images=[im for im in val['images'] if im['id'] in keep],
               annotations=[a for a in val['annotations'] if a['image_id'] in keep])
    json.dump(sub, open(tmp_path / 'val.json', 'w'))
    freq = {c['id']: c['frequency'] for c in val['categories']}
    names = tuple(c['name'] for c in val['categories'])
    metric = LongTailCocoMetric(ann_file=str(tmp_path / 'val.json'), out_dir=str(tmp_path))
    metric.dataset_meta = dict(classes=names)
    samples = []
    for im in sub['images']:
        ann = [a for a in sub['annotations'] if a['image_id'] == im['id']]
        ann = [a for a in ann if freq[a['category_id']] != 'r']
        x = [[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2],
              a['bbox'][1] + a['bbox'][3]] for a in ann]
        samples.append(dict(img_id=im['id'], ori_shape=(64, 64), pred_instances=dict(
            bboxes=torch.tensor(x, dtype=torch.float32).reshape(-1, 4),
            scores=torch.ones(len(ann)),
            labels=torch.tensor([a['category_id'] - 1 for a in ann], dtype=torch.long))))
    metric.process({}, samples)
    res = metric.evaluate(len(samples))
    assert res['coco/bbox_AP_f'] == 1.0 and res['coco/bbox_AP_c'] == 1.0
    assert res['coco/bbox_AP_r'] == 0.0
    rows = _read_csv(tmp_path / 'per_class_ap.csv')
    assert len(rows) == 200
    assert [int(r['train_count']) for r in rows] == [c['image_count'] for c in val['categories']]
    with_gt = [r for r in rows if int(r['num_gt'])]
    share = sum(r['group'] != 'r' for r in with_gt) / len(with_gt)
    assert res['coco/bbox_mAP'] == pytest.approx(share, abs=1e-9)


def test_more_than_100_detections_per_image(tmp_path):
    """AP uses 100 detections per image (pycocotools' stats[0]), AP50 proposal_nums[2]
    (stats[1]): true positives ranked after 150 false positives count for AP50 only."""
    gt_file = tmp_path / 'gt.json'
    json.dump(_gt(), open(gt_file, 'w'))
    rng = np.random.RandomState(1)
    # (the cap is per image and class)
    dets = {i: [(name, [float(v) for v in rng.randint(40, 56, 2)] + [6.0, 6.0],
                 float(rng.uniform(0.5, 0.9))) for _ in range(150)] for i, name in ((1, 'a'),
                                                                                   (4, 'c'))}
    dets[1].append(('a', [4, 4, 20, 20], 0.1))
    dets[4].append(('c', [8, 8, 16, 16], 0.2))
    metric = LongTailCocoMetric(ann_file=str(gt_file), class_counts=TRAIN_IMAGES,
                                out_dir=str(tmp_path))
    res = _run(metric, dets)
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_file))
        ev = COCOeval(gt, gt.loadRes([dict(image_id=i, category_id=NAMES.index(n) + 1, bbox=b,
                                           score=s) for i, it in dets.items() for n, b, s in it]),
                      'bbox')
        ev.params.maxDets = [100, 300, 1000]
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert ev.stats[1] > 0 and ev.stats[0] < ev.stats[1] / 2
    assert res['coco/bbox_mAP'] == pytest.approx(ev.stats[0], abs=1e-12)
    assert res['coco/bbox_mAP_50'] == pytest.approx(ev.stats[1], abs=1e-12)
    rows = _read_csv(tmp_path / 'per_class_ap.csv')
    ap = [float(r['AP']) for r in rows if r['AP']]
    ap50 = [float(r['AP50']) for r in rows if r['AP50']]
    assert np.mean(ap) == pytest.approx(ev.stats[0], abs=1e-6)
    assert np.mean(ap50) == pytest.approx(ev.stats[1], abs=1e-6)
