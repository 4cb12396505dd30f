"""Tests for the PBSD views transform (boxes + crops of the query view)."""
import cv2
import numpy as np
import pytest
from mmpretrain.registry import TRANSFORMS

import mmlt  # noqa: F401
from mmlt.datasets.transforms import PBSDMultiView, sample_boxes


def _load(path):
    return TRANSFORMS.build(dict(type='LoadImageFromFile'))(
        dict(img_path=str(path)))


@pytest.fixture(scope='module')
def cifar_image(cifar10_jpeg_root):
    return _load(cifar10_jpeg_root / 'train' / 'airplane' / '0001.jpg')


def _check_boxes(boxes, height, width, scale, ratio):
    x1, y1, x2, y2 = boxes.T
    w, h = x2 - x1, y2 - y1
    assert (x1 >= 0).all() and (y1 >= 0).all()
    assert (x2 <= width).all() and (y2 <= height).all()
    assert (w >= 1).all() and (h >= 1).all()
    assert np.array_equal(boxes, np.round(boxes))  # integer pixel boxes
    area = height * width
    # w and h are rounded from the sampled real values (+-0.5)
    assert ((w - 0.5) * (h - 0.5) <= scale[1] * area + 1e-6).all()
    assert ((w + 0.5) * (h + 0.5) >= scale[0] * area - 1e-6).all()
    assert ((w + 0.5) / (h - 0.5) >= ratio[0]).all()
    assert ((w - 0.5) / (h + 0.5) <= ratio[1]).all()
    return w * h / area


@pytest.mark.parametrize('hw', [(32, 32), (224, 160), (97, 301)])
def test_sampled_boxes_in_image_with_area_and_ratio_in_range(hw):
    rng = np.random.RandomState(0)
    scale, ratio = (0.05, 0.6), (3 / 4, 4 / 3)
    boxes = sample_boxes(hw, 500, scale, ratio, rng=rng)
    assert boxes.shape == (500, 4) and boxes.dtype == np.float32
    frac = _check_boxes(boxes, *hw, scale, ratio)
    # the whole range is used, not a fallback
    # (a 97 x 301 image fits at most 97 x 129 = 0.43 of its area)
    assert frac.min() < 0.1 and frac.max() > 0.4
    x1 = boxes[:, 0]
    assert len(np.unique(x1)) > 5


def test_crops_are_the_resized_box_regions_of_a_real_image(cifar_image):
    np.random.seed(0)
    t = PBSDMultiView(query_transforms=[], key_transforms=[],
                      num_patches=6, patch_size=16)
    img = cifar_image['img']
    out = t(dict(cifar_image))
    q, k, crops = out['img']
    np.testing.assert_array_equal(q, img)
    np.testing.assert_array_equal(k, img)
    boxes = out['patch_boxes']
    _check_boxes(boxes, 32, 32, (0.05, 0.6), (3 / 4, 4 / 3))
    assert crops.shape == (6, 3, 16, 16) and crops.dtype == np.uint8
    for crop, (x1, y1, x2, y2) in zip(crops, boxes.astype(int)):
        expect = cv2.resize(img[y1:y2, x1:x2], (16, 16),
                            interpolation=cv2.INTER_LINEAR)
        np.testing.assert_array_equal(crop.transpose(1, 2, 0), expect)


def test_boxes_refer_to_the_flipped_query_view(cifar_image):
    np.random.seed(1)
    t = PBSDMultiView(
        query_transforms=[dict(type='RandomFlip', prob=1.,
                               direction='horizontal')],
        key_transforms=[],
        num_patches=5,
        patch_size=16)
    img = cifar_image['img']
    out = t(dict(cifar_image))
    q, k, crops = out['img']
    np.testing.assert_array_equal(q, img[:, ::-1])  # query is flipped
    np.testing.assert_array_equal(k, img)  # key has its own pipeline
    assert not np.array_equal(q, img)
    for crop, (x1, y1, x2, y2) in zip(crops, out['patch_boxes'].astype(int)):
        # the box on the flipped view = the mirrored box on the original
        region = img[y1:y2, 32 - x2:32 - x1][:, ::-1]
        expect = cv2.resize(np.ascontiguousarray(region), (16, 16),
                            interpolation=cv2.INTER_LINEAR)
        np.testing.assert_array_equal(crop.transpose(1, 2, 0), expect)


def test_patch_pipeline_is_applied_to_each_crop(cifar_image):
    np.random.seed(2)
    t = PBSDMultiView(
        query_transforms=[],
        patch_transforms=[dict(type='RandomFlip', prob=1.)],
        num_patches=3,
        patch_size=8)
    out = t(dict(cifar_image))
    img = cifar_image['img']
    for crop, (x1, y1, x2, y2) in zip(out['img'][2],
                                      out['patch_boxes'].astype(int)):
        expect = cv2.resize(img[y1:y2, x1:x2], (8, 8))[:, ::-1]
        np.testing.assert_array_equal(crop.transpose(1, 2, 0), expect)


def test_resized_query_and_packing(tiny_imagenet_root):
    from mmengine.dataset import default_collate
    path = next((tiny_imagenet_root / 'train').glob('*/images/*.JPEG'))
    pipeline = [
        TRANSFORMS.build(t) for t in [
            dict(type='LoadImageFromFile'),
            dict(type='PBSDMultiView',
                 query_transforms=[
                     dict(type='RandomResizedCrop', scale=96,
                          crop_ratio_range=(0.2, 1.)),
                     dict(type='RandomFlip', prob=0.5)
                 ],
                 num_patches=4,
                 patch_size=24),
            dict(type='PackInputs', algorithm_keys=['patch_boxes']),
        ]
    ]
    items = []
    for seed in range(2):
        np.random.seed(seed)
        r = dict(img_path=str(path), gt_label=0)
        for t in pipeline:
            r = t(r)
        items.append(r)
    boxes = items[0]['data_samples'].patch_boxes
    _check_boxes(boxes, 96, 96, (0.05, 0.6), (3 / 4, 4 / 3))
    batch = default_collate(items)
    q, k, crops = batch['inputs']
    assert q.shape == k.shape == (2, 3, 96, 96)
    assert crops.shape == (2, 4, 3, 24, 24)
    assert batch['data_samples'][1].patch_boxes.shape == (4, 4)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match='scale'):
        PBSDMultiView(query_transforms=[], scale=(0.5, 0.1))
    with pytest.raises(ValueError, match='num_patches'):
        PBSDMultiView(query_transforms=[], num_patches=0)


def test_crops_cut_before_query_colour_transforms(cifar_image):
    """The authors' order: the crops come from the query after its geometric steps and before
    its photometric ones (query_color_transforms), so a grayscale query leaves them in colour."""
    gray = [dict(type='RandomGrayscale', prob=1., keep_channels=True)]
    np.random.seed(3)
    authors = PBSDMultiView(query_transforms=[dict(type='RandomFlip', prob=1.)],
                            query_color_transforms=gray, key_transforms=[], num_patches=3,
                            patch_size=16)
    out = authors(dict(cifar_image))
    q, k, crops = out['img']
    img = cifar_image['img']
    assert np.ptp(q.astype(int), axis=2).max() == 0  # grayscale query
    assert np.ptp(crops.astype(int), axis=1).max() > 0  # colour crops
    for crop, (x1, y1, x2, y2) in zip(crops, out['patch_boxes'].astype(int)):
        region = np.ascontiguousarray(img[:, ::-1][y1:y2, x1:x2])  # of the flipped query
        np.testing.assert_array_equal(crop.transpose(1, 2, 0), cv2.resize(region, (16, 16)))
    np.testing.assert_array_equal(k, img)
    # the crops of the fully augmented query inherit its grayscale (mmlt's first order)
    np.random.seed(3)
    inherited = PBSDMultiView(query_transforms=gray, key_transforms=[], num_patches=3,
                              patch_size=16)
    crops = inherited(dict(cifar_image))['img'][2]
    assert np.ptp(crops.astype(int), axis=1).max() == 0
    # without key_transforms the key repeats both query parts
    np.random.seed(3)
    key = PBSDMultiView(query_transforms=[], query_color_transforms=gray, num_patches=1,
                        patch_size=8)(dict(cifar_image))['img'][1]
    assert np.ptp(key.astype(int), axis=2).max() == 0
