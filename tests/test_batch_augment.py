"""The batched augmentation path draws from the distributions of the per-image reference.

Random resized crops, PBSD boxes, flips, colour-jitter and grayscale probabilities and CIFAR's
padded random crop are drawn many times by both paths and compared with two-sample
Kolmogorov-Smirnov, chi-square and binomial tests (each test also shows that it rejects a
slightly different distribution, so it can fail). Deterministic properties (crops are the boxes
resized, the order of crops and colour, normalisation, channel order, boxes on the data samples)
are checked exactly.
"""
import math

import mmcv
import numpy as np
import pytest
import torch
from scipy import stats

from mmlt.datasets.transforms.pbsd import sample_boxes
from mmlt.models.utils import (BatchAugClsDataPreprocessor, BatchAugment,
                               BatchAugViewsDataPreprocessor, MultiViewBatchAugment)
from mmlt.models.utils.batch_augment import boxes_from_kornia, build_augment
from mmpretrain.datasets.transforms import RandomResizedCrop
from mmpretrain.structures import DataSample

N = 4000
ALPHA = 1e-3  # significance of the distribution tests


def reference_rrc_boxes(size, scale, num, seed=0):
    """(num, 4) xyxy boxes of mmpretrain's per-image RandomResizedCrop on a size x size image."""
    np.random.seed(seed)
    rrc = RandomResizedCrop(scale=size, crop_ratio_range=scale)
    img = np.zeros((size, size, 3), np.uint8)
    boxes = []
    for _ in range(num):
        y, x, h, w = rrc.rand_crop_params(img)
        boxes.append((x, y, x + w, y + h))
    return np.asarray(boxes, np.float64)


def kornia_rrc_boxes(size, scale, num, seed=0):
    torch.manual_seed(seed)
    aug = build_augment(dict(type='RandomResizedCrop', size=(size, size), scale=scale))
    params = aug.forward_parameters((num, 3, size, size))
    return boxes_from_kornia(params['src']).double().numpy()


def box_stats(boxes, size):
    """Area fraction, log aspect ratio (w / h) and relative x offset of xyxy boxes."""
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    free = np.maximum(size - w, 1)
    return dict(area=w * h / size**2, log_ratio=np.log(w / h), x=boxes[:, 0] / free)


def same_distribution(a, b):
    return stats.ks_2samp(a, b).pvalue > ALPHA


@pytest.mark.parametrize('size,scale', [(32, (0.2, 1.)), (32, (0.08, 1.)), (64, (0.05, 0.6))])
def test_random_resized_crop_matches_mmpretrain(size, scale):
    ours = box_stats(kornia_rrc_boxes(size, scale, N), size)
    ref = box_stats(reference_rrc_boxes(size, scale, N), size)
    for key in ours:
        assert same_distribution(ours[key], ref[key]), key
    # the test has power: a crop scale range that differs by 0.1 is rejected
    shifted = box_stats(reference_rrc_boxes(size, (scale[0] + 0.1, scale[1]), N), size)
    assert not same_distribution(ours['area'], shifted['area'])


def test_patch_boxes_match_sample_boxes():
    """PBSD boxes: the batched crops' boxes vs the per-image ``sample_boxes``, on 32 px views."""
    views = MultiViewBatchAugment(query=[], num_patches=5, patch_size=16)
    torch.manual_seed(0)
    _, boxes = views.crops(torch.rand(N // 5, 3, 32, 32))
    ours = box_stats(boxes.reshape(-1, 4).double().numpy(), 32)
    rng = np.random.RandomState(0)
    ref = box_stats(np.concatenate(
        [sample_boxes((32, 32), 5, rng=rng) for _ in range(N // 5)]).astype(np.float64), 32)
    for key in ours:
        assert same_distribution(ours[key], ref[key]), key
    assert boxes.shape == (N // 5, 5, 4)
    assert (boxes[..., :2] >= 0).all() and (boxes[..., 2:] <= 32).all()


def test_crops_are_the_boxes_resized_like_mmcv():
    """Each crop is its box of the view, resized bilinearly as mmcv.imresize does."""
    torch.manual_seed(1)
    img = torch.rand(4, 3, 32, 32)
    views = MultiViewBatchAugment(query=[], num_patches=3, patch_size=16)
    crops, boxes = views.crops(img)
    for b in range(4):
        for j in range(3):
            x1, y1, x2, y2 = boxes[b, j].long().tolist()
            patch = img[b, :, y1:y2, x1:x2].permute(1, 2, 0).numpy()
            ref = mmcv.imresize(patch, (16, 16), interpolation='bilinear')
            got = crops[b * 3 + j].permute(1, 2, 0).numpy()
            assert np.abs(got - ref).max() < 0.03, (b, j, (x1, y1, x2, y2))


def fraction(mask):
    return float(mask.float().mean())


def binomial_ok(successes, trials, p):
    return stats.binomtest(int(successes), trials, p).pvalue > ALPHA


def test_flip_jitter_and_grayscale_probabilities():
    torch.manual_seed(0)
    img = torch.rand(N, 3, 8, 8)
    gray = BatchAugment([dict(type='RandomGrayscale', p=0.2)])(img)
    is_gray = (gray[:, 0] == gray[:, 1]).flatten(1).all(1) & (gray[:, 1] == gray[:, 2]).flatten(1).all(1)
    assert binomial_ok(is_gray.sum(), N, 0.2)
    assert not binomial_ok(is_gray.sum(), N, 0.25)

    jitter = BatchAugment([dict(type='ColorJitter', brightness=0.4, contrast=0.4,
                                saturation=0.4, hue=0.1, p=0.8)])(img)
    changed = (jitter - img).abs().flatten(1).amax(1) > 1e-6
    assert binomial_ok(changed.sum(), N, 0.8)

    ramp = torch.arange(8.).expand(N, 3, 8, 8) / 8
    flipped = BatchAugment([dict(type='RandomHorizontalFlip')])(ramp)
    was_flipped = flipped[:, 0, 0, 0] > flipped[:, 0, 0, -1]
    assert binomial_ok(was_flipped.sum(), N, 0.5)


def test_cifar_padded_random_crop_offsets_are_uniform():
    """RandomCrop(32, padding=4): the 9 x 9 offsets are equally likely, as in mmcv's RandomCrop."""
    torch.manual_seed(0)
    x = torch.arange(32.).view(1, 1, 1, 32).expand(N, 3, 32, 32) / 64 + 0.5
    y = torch.arange(32.).view(1, 1, 32, 1).expand(N, 3, 32, 32) / 64 + 0.5
    aug = BatchAugment([dict(type='RandomCrop', size=(32, 32), padding=4)])
    torch.manual_seed(0)
    out_x = aug(x)
    torch.manual_seed(0)
    out_y = aug(y)
    # the output's centre pixel (16, 16) comes from input pixel (16 + dy - 4, 16 + dx - 4)
    dx = torch.round((out_x[:, 0, 16, 16] - 0.5) * 64 - 12).long()
    dy = torch.round((out_y[:, 0, 16, 16] - 0.5) * 64 - 12).long()
    assert dx.min() >= 0 and dx.max() <= 8 and dy.min() >= 0 and dy.max() <= 8
    counts = torch.bincount(dy * 9 + dx, minlength=81).numpy()
    assert stats.chisquare(counts).pvalue > ALPHA
    # zero padding: an offset of 0 shows 4 black columns on the left
    left = out_x[dx == 0]
    assert torch.all(left[:, :, :, :4] == 0)


def test_crops_are_cut_before_query_colour_when_it_is_split():
    """The authors' order (crops from the un-coloured query) vs crops of the coloured query."""
    torch.manual_seed(0)
    img = torch.rand(8, 3, 32, 32)
    gray = [dict(type='RandomGrayscale', p=1.)]

    def is_gray(t):
        return torch.allclose(t[:, 0], t[:, 1]) and torch.allclose(t[:, 1], t[:, 2])

    authors = MultiViewBatchAugment(query=[], query_color=gray, key=[], num_patches=2,
                                    patch_size=8)
    (q, k, crops), boxes = authors(img)
    assert is_gray(q) and not is_gray(crops) and not is_gray(k)
    inherited = MultiViewBatchAugment(query=gray, key=[], num_patches=2, patch_size=8)
    (q, _, crops), _ = inherited(img)
    assert is_gray(q) and is_gray(crops)
    # key=None repeats the whole query pipeline (MoCo v2: the same augmentations)
    (_, k, _), _ = MultiViewBatchAugment(query=[], query_color=gray, num_patches=1)(img)
    assert is_gray(k)


def test_views_preprocessor_outputs_normalised_rgb_views_and_boxes():
    mean, std = [125.3, 123.0, 113.9], [51.6, 50.8, 51.3]
    pre = BatchAugViewsDataPreprocessor(
        views=dict(query=[], key=[], num_patches=5, patch_size=16), mean=mean, std=std,
        to_rgb=True, channels_last=True)
    bgr = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)
    samples = [DataSample().set_gt_label(i) for i in range(4)]
    out = pre(dict(inputs=bgr, data_samples=samples), training=True)
    q, k, crops = out['inputs']
    expected = (bgr.flip(1).float() - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(
        std).view(1, 3, 1, 1)
    torch.testing.assert_close(q, expected, atol=1e-4, rtol=0)
    torch.testing.assert_close(k, expected, atol=1e-4, rtol=0)
    assert crops.shape == (20, 3, 16, 16)
    assert q.is_contiguous(memory_format=torch.channels_last)
    for s in out['data_samples']:
        assert s.patch_boxes.shape == (5, 4)
    # outside training: the single normalised view, no augmentation
    out = pre(dict(inputs=bgr, data_samples=samples), training=False)
    torch.testing.assert_close(out['inputs'], expected, atol=1e-4, rtol=0)


def test_cls_preprocessor_augments_only_in_training():
    pre = BatchAugClsDataPreprocessor(
        augments=[dict(type='RandomHorizontalFlip', p=1.)], mean=[10., 20., 30.],
        std=[2., 2., 2.], to_rgb=True, num_classes=3)
    bgr = torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8)
    samples = [DataSample().set_gt_label(0), DataSample().set_gt_label(2)]
    plain = (bgr.flip(1).float() - torch.tensor([10., 20., 30.]).view(1, 3, 1, 1)) / 2
    out = pre(dict(inputs=bgr, data_samples=samples), training=False)
    torch.testing.assert_close(out['inputs'], plain)
    out = pre(dict(inputs=bgr, data_samples=samples), training=True)
    torch.testing.assert_close(out['inputs'], plain.flip(-1), atol=1e-4, rtol=0)


def test_bad_augmentation_config_names_the_type():
    with pytest.raises(ValueError, match="'NoSuchAug' is not a class of kornia.augmentation"):
        build_augment(dict(type='NoSuchAug'))
    with pytest.raises(TypeError, match='ColorJitter'):
        build_augment(dict(type='ColorJitter', nonsense=1))
    with pytest.raises(ValueError, match='scale'):
        MultiViewBatchAugment(query=[], num_patches=2, scale=(0.5, 0.1))


def test_augmentation_runs_in_float32_under_bf16_autocast():
    img = torch.rand(4, 3, 16, 16)
    aug = BatchAugment([dict(type='RandomGaussianBlur', kernel_size=(3, 3), sigma=(0.1, 2.),
                             p=1.)])
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = aug(img)
    assert out.dtype == torch.float32
    assert math.isfinite(float(out.sum()))
