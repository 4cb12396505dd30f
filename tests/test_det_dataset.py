"""Tiny-ImageNet-LT detection: COCO annotations, mosaic, the mmdet dataset, bad input."""
import json
import os
import os.path as osp
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip('mmdet')
cv2 = pytest.importorskip('cv2')

from mmlt.datasets import TinyImageNetLT  # noqa: E402
from mmlt.datasets.base import ldam_class_counts  # noqa: E402
from mmlt.det.datasets import (TINY_IMAGENET_WNIDS, build_tiny_imagenet_lt_det,  # noqa: E402
                               build_tiny_imagenet_lt_det_mosaic, check_coco,
                               frequency_groups, mosaic_groups)
from mmlt.det.datasets.mosaic import resize_tile  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(128, 128), keep_ratio=True),
    dict(type='PackDetInputs'),
]


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope='module')
def ann_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp('det_ann')


@pytest.fixture(scope='module')
def train_coco(tiny_imagenet_root, ann_dir):
    # read_sizes=False (64x64, checked on the val split, which reads every header)
    return build_tiny_imagenet_lt_det(tiny_imagenet_root, 'train', read_sizes=False,
                                      out_file=str(ann_dir / 'train.json'))


@pytest.fixture(scope='module')
def val_coco(tiny_imagenet_root, ann_dir):
    return build_tiny_imagenet_lt_det(tiny_imagenet_root, 'val',
                                      out_file=str(ann_dir / 'val.json'))


@pytest.fixture(scope='module')
def cls_train(tiny_imagenet_root):
    return TinyImageNetLT(data_root=str(tiny_imagenet_root), split='train', imb_ratio=100)


def _raw_train_box(root, wnid, name):
    """(x0, y0, x1, y1) of ``name`` re-read from ``<wnid>_boxes.txt``."""
    with open(osp.join(root, 'train', wnid, f'{wnid}_boxes.txt')) as f:
        for line in f:
            parts = line.rstrip('\n').split('\t')
            if parts[0] == name:
                return tuple(int(v) for v in parts[1:5])
    raise KeyError(name)


# ----------------------------------------------------------------------------- real data
def test_train_is_exactly_tiny_imagenet_lt(tiny_imagenet_root, train_coco, cls_train):
    root = str(tiny_imagenet_root)
    wnids = sorted(open(osp.join(root, 'wnids.txt')).read().split())
    assert list(TINY_IMAGENET_WNIDS) == wnids == list(cls_train.wnids)
    cats = train_coco['categories']
    assert [c['id'] for c in cats] == list(range(1, 201))
    assert [c['name'] for c in cats] == wnids
    # same images, same order (image id i + 1 = classification sample i)
    cls_paths = [osp.relpath(cls_train.get_data_info(i)['img_path'], root)
                 for i in range(len(cls_train))]
    assert [im['file_name'] for im in train_coco['images']] == cls_paths
    assert [im['id'] for im in train_coco['images']] == list(range(1, len(cls_paths) + 1))
    # per-class counts = TinyImageNetLT's = LDAM-DRW's profile at IR 100 (500 -> 5)
    expected = ldam_class_counts(500, 200, 100)
    assert cls_train.metainfo['class_counts'] == expected
    per_cat = Counter(a['category_id'] for a in train_coco['annotations'])
    assert [per_cat[c] for c in range(1, 201)] == expected
    assert len(train_coco['images']) == len(train_coco['annotations']) == sum(expected) == 21549
    assert [c['image_count'] for c in cats] == expected
    assert [c['frequency'] for c in cats] == list(frequency_groups(expected))
    assert Counter(c['frequency'] for c in cats) == {'f': 70, 'c': 95, 'r': 35}
    assert cats[0]['words'].startswith('goldfish')
    # the label of each box is its folder's class
    by_id = {im['id']: im for im in train_coco['images']}
    for ann in train_coco['annotations']:
        assert by_id[ann['image_id']]['file_name'].split('/')[1] == wnids[ann['category_id'] - 1]


def test_train_boxes_from_raw_files(tiny_imagenet_root, train_coco):
    root = str(tiny_imagenet_root)
    by_id = {im['id']: im for im in train_coco['images']}
    anns = train_coco['annotations']
    thin = [a for a in anns if a['bbox'][2] == 1 or a['bbox'][3] == 1]
    assert thin  # one-pixel-wide boxes (x0 == x1) stay, with w = 1
    picked = anns[::1500] + thin[:3] + [a for a in anns if a['bbox'] == [0, 0, 64, 64]][:2]
    assert len(picked) > 15
    for ann in picked:
        name = by_id[ann['image_id']]['file_name']
        wnid = name.split('/')[1]
        x0, y0, x1, y1 = _raw_train_box(root, wnid, osp.basename(name))
        assert ann['bbox'] == [x0, y0, x1 - x0 + 1, y1 - y0 + 1], name
        assert ann['area'] == (x1 - x0 + 1) * (y1 - y0 + 1)
        assert ann['iscrowd'] == 0
    for ann in anns:
        x, y, w, h = ann['bbox']
        assert 0 <= x and 0 <= y and w >= 1 and h >= 1 and x + w <= 64 and y + h <= 64


def test_val_is_the_official_val_set(tiny_imagenet_root, val_coco, train_coco, ann_dir):
    root = str(tiny_imagenet_root)
    wnids = list(TINY_IMAGENET_WNIDS)
    assert len(val_coco['images']) == len(val_coco['annotations']) == 10000
    assert all((im['width'], im['height']) == (64, 64) for im in val_coco['images'])
    assert Counter(a['category_id'] for a in val_coco['annotations']) == {
        c: 50 for c in range(1, 201)}
    raw = {}
    for line in open(osp.join(root, 'val', 'val_annotations.txt')):
        p = line.rstrip('\n').split('\t')
        raw['val/images/' + p[0]] = (p[1], tuple(int(v) for v in p[2:6]))
    by_id = {im['id']: im['file_name'] for im in val_coco['images']}
    assert set(by_id.values()) == set(raw)
    for ann in val_coco['annotations']:
        wnid, (x0, y0, x1, y1) = raw[by_id[ann['image_id']]]
        assert wnids[ann['category_id'] - 1] == wnid
        assert ann['bbox'] == [x0, y0, x1 - x0 + 1, y1 - y0 + 1]
    cls_test = TinyImageNetLT(data_root=root, split='test')
    assert [im['file_name'] for im in val_coco['images']] == [
        osp.relpath(cls_test.get_data_info(i)['img_path'], root) for i in range(len(cls_test))]
    # categories carry the TRAINING counts, as LVIS's val file
    assert val_coco['categories'] == train_coco['categories']
    assert json.load(open(ann_dir / 'val.json')) == val_coco
    assert json.load(open(ann_dir / 'train.json')) == train_coco


def test_tool_writes_the_files(tiny_imagenet_root, val_coco, tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'make_det', REPO / 'tools' / 'det' / 'make_tiny_imagenet_lt_det.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.main(['--root', str(tiny_imagenet_root), '--splits', 'val', '--out-dir', str(tmp_path)])
    assert json.load(open(tmp_path / 'tiny-imagenet-lt-r100_val.json')) == val_coco


# ----------------------------------------------------------------------------- mosaic
def test_mosaic_groups_use_every_image_once():
    groups = mosaic_groups(21549, k=2, seed=0)
    assert len(groups) == 5388 and [len(g) for g in groups[:-1]] == [4] * 5387
    assert len(groups[-1]) == 21549 % 4 == 1
    assert np.array_equal(np.sort(np.concatenate(groups)), np.arange(21549))
    again = mosaic_groups(21549, k=2, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(groups, again))
    assert not np.array_equal(mosaic_groups(21549, 2, seed=1)[0], groups[0])
    sub = mosaic_groups(21549, k=3, seed=0, max_images=20)
    assert [len(g) for g in sub] == [9, 9, 2]


def test_mosaic_json_covers_the_lt_set(tiny_imagenet_root, train_coco, tmp_path):
    coco = build_tiny_imagenet_lt_det_mosaic(tiny_imagenet_root, str(tmp_path), k=2,
                                             canvas=128, source=train_coco,
                                             write_images=False)
    assert len(coco['images']) == 5388
    assert all((im['width'], im['height']) == (128, 128) for im in coco['images'])
    used = [a['source_image_id'] for a in coco['annotations']]
    assert sorted(used) == [im['id'] for im in train_coco['images']]  # every image once
    assert [len(im['tiles']) for im in coco['images']][-1] == 1
    assert coco['categories'] == train_coco['categories']
    assert Counter(a['category_id'] for a in coco['annotations']) == Counter(
        a['category_id'] for a in train_coco['annotations'])
    assert coco['info']['mosaic']['k'] == 2 and coco['info']['split'] == 'train'
    check_coco(coco)


def _src(root, train_coco, image_id):
    im = next(i for i in train_coco['images'] if i['id'] == image_id)
    ann = next(a for a in train_coco['annotations'] if a['image_id'] == image_id)
    return cv2.imread(osp.join(root, im['file_name']), cv2.IMREAD_COLOR), ann


def test_mosaic_pixels_boxes_and_determinism(tiny_imagenet_root, train_coco, tmp_path):
    root = str(tiny_imagenet_root)
    out = str(tmp_path / 'mosaic')
    kwargs = dict(k=2, canvas=128, source=train_coco, max_images=10,
                  out_file=str(tmp_path / 'm.json'))
    coco = build_tiny_imagenet_lt_det_mosaic(root, out, **kwargs)
    assert [len(im['tiles']) for im in coco['images']] == [4, 4, 2]  # last group partial
    used = [t['image_id'] for im in coco['images'] for t in im['tiles']]
    assert len(set(used)) == 10
    canvases = [cv2.imread(osp.join(root, im['file_name']), cv2.IMREAD_UNCHANGED)
                for im in coco['images']]
    anns = {}
    for a in coco['annotations']:
        anns.setdefault(a['image_id'], []).append(a)
    for im, img in zip(coco['images'], canvases):
        assert img.shape == (128, 128, 3)
        assert im['file_name'].startswith(osp.relpath(out, root).replace(os.sep, '/'))
        for j, tile in enumerate(im['tiles']):
            x, y = (j % 2) * 64, (j // 2) * 64
            assert (tile['x'], tile['y'], tile['size']) == (x, y, 64)
            src, src_ann = _src(root, train_coco, tile['image_id'])
            assert np.array_equal(img[y:y + 64, x:x + 64], src)  # 64 px tiles: no resize
            box = next(a for a in anns[im['id']] if a['source_image_id'] == tile['image_id'])
            sx, sy, sw, sh = src_ann['bbox']
            assert box['bbox'] == [x + sx, y + sy, sw, sh]
            assert box['category_id'] == src_ann['category_id']
    # the last canvas: two tiles, the two other cells at the pad value
    assert (canvases[2][64:, :] == 114).all()
    # same seed: identical JSON and pixels
    text = open(tmp_path / 'm.json').read()
    again = build_tiny_imagenet_lt_det_mosaic(root, out, **kwargs)
    assert again == coco and open(tmp_path / 'm.json').read() == text
    for im, img in zip(coco['images'], canvases):
        assert np.array_equal(cv2.imread(osp.join(root, im['file_name']),
                                         cv2.IMREAD_UNCHANGED), img)
    other = build_tiny_imagenet_lt_det_mosaic(root, str(tmp_path / 'other'), k=2, canvas=128,
                                              source=train_coco, max_images=10,
                                              mosaic_seed=1, write_images=False)
    assert [t['image_id'] for im in other['images'] for t in im['tiles']] != used


@pytest.mark.parametrize('k,canvas', [(2, 64), (1, 96)])
def test_mosaic_scaled_tiles(tiny_imagenet_root, train_coco, tmp_path, k, canvas):
    root = str(tiny_imagenet_root)
    coco = build_tiny_imagenet_lt_det_mosaic(root, str(tmp_path), k=k, canvas=canvas,
                                             source=train_coco, max_images=k * k,
                                             ext='.png')
    size = canvas // k
    scale = size / 64
    img = cv2.imread(osp.join(root, coco['images'][0]['file_name']), cv2.IMREAD_UNCHANGED)
    for tile, ann in zip(coco['images'][0]['tiles'], coco['annotations']):
        src, src_ann = _src(root, train_coco, tile['image_id'])
        interp = cv2.INTER_AREA if size < 64 else cv2.INTER_LINEAR
        expected = cv2.resize(src, (size, size), interpolation=interp)
        assert np.array_equal(resize_tile(src, size), expected)
        x, y = tile['x'], tile['y']
        assert np.array_equal(img[y:y + size, x:x + size], expected)
        sx, sy, sw, sh = src_ann['bbox']
        assert ann['bbox'] == pytest.approx([x + sx * scale, y + sy * scale, sw * scale,
                                             sh * scale], abs=1e-9)
        assert ann['area'] == pytest.approx(sw * sh * scale * scale)


# ----------------------------------------------------------------------------- mmdet
def _build_det(**cfg):
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    from mmdet.registry import DATASETS
    return DATASETS.build(dict(type='TinyImageNetLTDet', **cfg))


def test_mmdet_dataset_and_pipeline(tiny_imagenet_root, train_coco, ann_dir):
    import mmlt.det  # noqa: F401  (registers into mmdet)
    root = str(tiny_imagenet_root)
    ds = _build_det(data_root=root, ann_file=str(ann_dir / 'train.json'), split='train',
                    filter_cfg=dict(filter_empty_gt=True, min_size=1), pipeline=PIPELINE)
    assert type(ds).__name__ == 'TinyImageNetLTDet'
    assert len(ds) == 21549  # the one-pixel-wide boxes survive CocoDataset's filters
    assert ds.metainfo['classes'] == TINY_IMAGENET_WNIDS
    assert ds.metainfo['class_counts'] == ldam_class_counts(500, 200, 100)
    for idx in (0, 12345, len(ds) - 1):
        info = ds.get_data_info(idx)
        img = train_coco['images'][idx]
        assert info['img_path'] == osp.join(root, img['file_name'])
        wnid = img['file_name'].split('/')[1]
        x0, y0, x1, y1 = _raw_train_box(root, wnid, osp.basename(img['file_name']))
        sample = ds[idx]
        assert tuple(sample['inputs'].shape) == (3, 128, 128)
        gt = sample['data_samples'].gt_instances
        assert gt.bboxes.tensor.tolist() == [[2 * x0, 2 * y0, 2 * (x1 + 1), 2 * (y1 + 1)]]
        assert gt.labels.tolist() == [TINY_IMAGENET_WNIDS.index(wnid)]
        assert sample['data_samples'].img_id == img['id']
    with pytest.raises(ValueError, match=r'train\.json.*imb_ratio=100.*imb_ratio=50'):
        _build_det(data_root=root, ann_file=str(ann_dir / 'train.json'), split='train',
                   imb_ratio=50)


def test_mmdet_dataset_on_mosaic(tiny_imagenet_root, train_coco, tmp_path):
    import mmlt.det  # noqa: F401
    root = str(tiny_imagenet_root)
    coco = build_tiny_imagenet_lt_det_mosaic(root, str(tmp_path), k=2, canvas=128,
                                             source=train_coco, max_images=8,
                                             out_file=str(tmp_path / 'mosaic.json'))
    ds = _build_det(data_root=root, ann_file=str(tmp_path / 'mosaic.json'), auto_build=False,
                    pipeline=[dict(type='LoadImageFromFile'),
                              dict(type='LoadAnnotations', with_bbox=True),
                              dict(type='PackDetInputs')])
    assert len(ds) == 2
    sample = ds[1]
    gt = sample['data_samples'].gt_instances
    expected = [[x, y, x + w, y + h] for a in coco['annotations'] if a['image_id'] == 2
                for x, y, w, h in [a['bbox']]]
    assert gt.bboxes.tensor.tolist() == expected
    assert tuple(sample['inputs'].shape) == (3, 128, 128)


# ----------------------------------------------------------------------------- fake release
WNIDS = ['n03', 'n01', 'n02']  # wnids.txt order; the classes are sorted


def _fake_root(tmp_path, per_class=4, val_per_class=2):
    """A tiny tiny-imagenet-200: 3 wnids, ``per_class`` training and ``val_per_class`` val
    images each (64x64 JPEGs), boxes x0=y0=i, x1=y1=40+i."""
    root = tmp_path / 'tiny'
    rng = np.random.RandomState(0)
    (root / 'val' / 'images').mkdir(parents=True)
    (root / 'wnids.txt').write_text('\n'.join(WNIDS) + '\n')
    (root / 'words.txt').write_text(''.join(f'{w}\tword {w}\n' for w in WNIDS))
    val_lines = []
    for c, wnid in enumerate(sorted(WNIDS)):
        img_dir = root / 'train' / wnid / 'images'
        img_dir.mkdir(parents=True)
        lines = []
        for i in range(per_class):
            name = f'{wnid}_{i}.JPEG'
            cv2.imwrite(str(img_dir / name), rng.randint(0, 255, (64, 64, 3), np.uint8))
            lines.append(f'{name}\t{i}\t{i}\t{40 + i}\t{40 + i}')
        (root / 'train' / wnid / f'{wnid}_boxes.txt').write_text('\n'.join(lines) + '\n')
        for i in range(val_per_class):
            name = f'val_{c * val_per_class + i}.JPEG'
            cv2.imwrite(str(root / 'val' / 'images' / name),
                        rng.randint(0, 255, (64, 64, 3), np.uint8))
            val_lines.append(f'{name}\t{wnid}\t1\t2\t30\t40')
    (root / 'val' / 'val_annotations.txt').write_text('\n'.join(val_lines) + '\n')
    return root


def _edit_line(path, lineno, new):
    lines = path.read_text().splitlines()
    if new is None:
        del lines[lineno - 1]
    else:
        lines[lineno - 1] = new
    path.write_text('\n'.join(lines) + '\n')


def test_fake_release_and_auto_build(tmp_path):
    import mmlt.det  # noqa: F401
    root = _fake_root(tmp_path)
    coco = build_tiny_imagenet_lt_det(root, 'train', imb_ratio=2)
    assert [c['name'] for c in coco['categories']] == sorted(WNIDS)
    assert [c['image_count'] for c in coco['categories']] == ldam_class_counts(4, 3, 2) == [4, 2, 2]
    assert [c['frequency'] for c in coco['categories']] == ['r', 'r', 'r']
    assert [c['frequency'] for c in build_tiny_imagenet_lt_det(
        root, 'train', imb_ratio=2, freq_thresholds=(2, 3))['categories']] == ['f', 'r', 'r']
    assert [c['words'] for c in coco['categories']] == ['word n01', 'word n02', 'word n03']
    # step profile: half the classes keep img_max, the others img_max / IR
    step = build_tiny_imagenet_lt_det(root, 'train', imb_ratio=4, imb_type='step')
    assert [c['image_count'] for c in step['categories']] == [4, 1, 1]
    val = build_tiny_imagenet_lt_det(root, 'val', imb_ratio=2)
    assert len(val['images']) == 6 and val['annotations'][0]['bbox'] == [1, 2, 30, 39]
    # a missing ann_file is built once, under data_root
    ds = _build_det(data_root=str(root), split='train', imb_ratio=2, pipeline=PIPELINE,
                    metainfo=dict(classes=tuple(sorted(WNIDS))))
    path = root / 'annotations' / 'tiny-imagenet-lt-r2_train.json'
    assert path.is_file() and len(ds) == 8
    assert json.load(open(path)) == coco
    x, y, w, h = coco['annotations'][0]['bbox']
    assert ds[0]['data_samples'].gt_instances.bboxes.tensor.tolist() == [
        [2 * x, 2 * y, 2 * (x + w), 2 * (y + h)]]
    with pytest.raises(FileNotFoundError, match='make_tiny_imagenet_lt_det'):
        _build_det(data_root=str(root), split='val', imb_ratio=2, auto_build=False,
                   metainfo=dict(classes=tuple(sorted(WNIDS))))
    with pytest.raises(ValueError,
                       match=r"r2_train\.json: the categories.*position 1: 'n02' vs 'n09'"):
        _build_det(data_root=str(root), split='train', imb_ratio=2,
                   metainfo=dict(classes=('n01', 'n09', 'n03')))


def test_bad_boxes_name_the_file_and_value(tmp_path):
    root = _fake_root(tmp_path)
    boxes = root / 'train' / 'n02' / 'n02_boxes.txt'
    # one pixel beyond the image (x1 = 64): within the tolerance, clipped
    _edit_line(boxes, 2, 'n02_1.JPEG\t1\t1\t64\t63')
    coco = build_tiny_imagenet_lt_det(root, 'train', imb_ratio=1)
    ann = next(a for a, im in zip(coco['annotations'], coco['images'])
               if im['file_name'].endswith('n02_1.JPEG'))
    assert ann['bbox'] == [1, 1, 63, 63]
    # beyond the tolerance
    _edit_line(boxes, 2, 'n02_1.JPEG\t1\t1\t70\t20')
    with pytest.raises(ValueError, match=r'n02_boxes\.txt:2: box .*1,1,70,20.*outside the '
                                         r'64x64 image .*n02_1\.JPEG'):
        build_tiny_imagenet_lt_det(root, 'train', imb_ratio=1)
    _edit_line(boxes, 2, 'n02_1.JPEG\t30\t1\t20\t20')
    with pytest.raises(ValueError, match=r'n02_boxes\.txt:2: .*30,1,20,20.*x1 < x0'):
        build_tiny_imagenet_lt_det(root, 'train', imb_ratio=1)
    _edit_line(boxes, 2, 'n02_1.JPEG\t1\tone\t20\t20')
    with pytest.raises(ValueError, match=r'n02_boxes\.txt:2: expected four integer'):
        build_tiny_imagenet_lt_det(root, 'train', imb_ratio=1)
    # an image of the LT set without a box
    _edit_line(boxes, 2, None)
    with pytest.raises(ValueError, match=r'n02_boxes\.txt: no box for the training image '
                                         r'.*n02_1\.JPEG'):
        build_tiny_imagenet_lt_det(root, 'train', imb_ratio=1)
    # val: a box outside the image, a wnid that is not a class
    val = root / 'val' / 'val_annotations.txt'
    _edit_line(val, 3, 'val_2.JPEG\tn02\t-5\t0\t10\t10')
    with pytest.raises(ValueError, match=r'val_annotations\.txt:3: box .*-5,0,10,10'):
        build_tiny_imagenet_lt_det(root, 'val', imb_ratio=1)
    _edit_line(val, 3, 'val_2.JPEG\tn07\t0\t0\t10\t10')
    with pytest.raises(ValueError, match=r"val_annotations\.txt:3: wnid 'n07'"):
        build_tiny_imagenet_lt_det(root, 'val', imb_ratio=1)
    with pytest.raises(ValueError, match='split must be one of'):
        build_tiny_imagenet_lt_det(root, 'test')


def _small_coco():
    return dict(
        images=[dict(id=1, file_name='a.jpg', width=64, height=48),
                dict(id=2, file_name='b.jpg', width=64, height=64)],
        annotations=[dict(id=1, image_id=1, category_id=1, bbox=[0, 0, 10, 10], area=100),
                     dict(id=2, image_id=2, category_id=2, bbox=[5, 5, 59, 59], area=59 * 59)],
        categories=[dict(id=1, name='x'), dict(id=2, name='y')])


def test_check_coco_errors():
    check_coco(_small_coco(), 'ok.json')
    bad = _small_coco()
    bad['annotations'][1]['category_id'] = 7
    with pytest.raises(ValueError, match=r"f\.json: annotation 2 of image 'b\.jpg' has "
                                         r'category_id 7, not among the 2 categories'):
        check_coco(bad, 'f.json')
    bad = _small_coco()
    bad['annotations'][0]['bbox'] = [0, 30, 10, 20]  # y + h = 50 > 48 + 1
    with pytest.raises(ValueError, match=r"f\.json: annotation 1: bbox \[0, 30, 10, 20\].*"
                                         r"64x48 image 'a\.jpg'"):
        check_coco(bad, 'f.json')
    bad['annotations'][0]['bbox'] = [0, 30, 10, 19]  # 1 pixel: tolerated
    check_coco(bad, 'f.json')
    bad = _small_coco()
    del bad['annotations'][0]
    with pytest.raises(ValueError, match=r"f\.json: image 'a\.jpg' \(id 1\) has no annotation"):
        check_coco(bad, 'f.json')
    check_coco(bad, 'f.json', require_annotations=False)
    bad = _small_coco()
    bad['annotations'][0]['image_id'] = 9
    with pytest.raises(ValueError, match='refers to image_id 9'):
        check_coco(bad, 'f.json')
    bad = _small_coco()
    bad['annotations'][0]['bbox'] = [0, 0, 0, 10]
    with pytest.raises(ValueError, match=r'empty bbox \[0, 0, 0, 10\]'):
        check_coco(bad, 'f.json')


def test_mosaic_bad_arguments(tmp_path):
    root = _fake_root(tmp_path)
    coco = build_tiny_imagenet_lt_det(root, 'train', imb_ratio=1)
    with pytest.raises(ValueError, match='canvas=100 must be a positive multiple of k=3'):
        build_tiny_imagenet_lt_det_mosaic(root, str(tmp_path / 'm'), k=3, canvas=100,
                                          source=coco)
    del coco['annotations'][0]
    with pytest.raises(ValueError, match='has no annotation'):
        build_tiny_imagenet_lt_det_mosaic(root, str(tmp_path / 'm'), source=coco)
    # a 2x2 mosaic of the 12 fake images, upscaled to 96-px tiles, read back
    coco = build_tiny_imagenet_lt_det_mosaic(root, str(tmp_path / 'm'), k=2, canvas=192,
                                             imb_ratio=1)
    assert len(coco['images']) == 3 and len(coco['annotations']) == 12


def test_custom_imports_register_into_mmdet():
    from mmengine.utils import import_modules_from_strings
    from mmdet.registry import DATASETS, METRICS
    import_modules_from_strings(['mmlt.det'])
    assert DATASETS.get('TinyImageNetLTDet').__name__ == 'TinyImageNetLTDet'
    assert METRICS.get('LongTailCocoMetric').__name__ == 'LongTailCocoMetric'
