"""PBSD views: query and key views plus L boxes and crops of the query view."""
import copy
import math
from typing import Callable, List, Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform, Compose
from mmpretrain.registry import TRANSFORMS

Transform = Union[dict, Callable[[dict], dict]]


def sample_boxes(img_hw: Tuple[int, int],
                 num: int,
                 scale: Tuple[float, float] = (0.05, 0.6),
                 ratio: Tuple[float, float] = (3. / 4., 4. / 3.),
                 max_attempts: int = 10,
                 rng: Optional[np.random.RandomState] = None) -> np.ndarray:
    """Sample ``num`` integer boxes like ``RandomResizedCrop`` (vectorised).

    Area in ``scale`` x image area and aspect ratio w / h log-uniform in
    ``ratio``; per box the first of ``max_attempts`` candidates that fits is
    kept, else the centre crop with the ratio clamped into range (as in
    torchvision).

    Args:
        img_hw (tuple[int, int]): Image height and width.
        num (int): Number of boxes L.
        scale (tuple[float, float]): Range of the area fraction.
        ratio (tuple[float, float]): Range of the aspect ratio w / h.
        max_attempts (int): Candidates per box.
        rng (np.random.RandomState, optional): Random state; the global
            numpy one (seeded per worker by mmengine) when None.

    Returns:
        np.ndarray: (num, 4) float32 pixel xyxy boxes; box ``[x1, y1, x2,
        y2]`` covers pixels ``x1 .. x2 - 1`` and ``y1 .. y2 - 1``.
    """
    rng = np.random if rng is None else rng
    height, width = img_hw
    area = height * width
    shape = (num, max_attempts)
    target = area * rng.uniform(scale[0], scale[1], size=shape)
    log_r = rng.uniform(math.log(ratio[0]), math.log(ratio[1]), size=shape)
    aspect = np.exp(log_r)
    w = np.round(np.sqrt(target * aspect)).astype(np.int64)
    h = np.round(np.sqrt(target / aspect)).astype(np.int64)
    ok = (w > 0) & (h > 0) & (w <= width) & (h <= height)
    first = ok.argmax(axis=1)
    rows = np.arange(num)
    w, h, found = w[rows, first], h[rows, first], ok[rows, first]

    # fallback: centre crop with the ratio clamped into range
    in_ratio = width / height
    if in_ratio < min(ratio):
        fw, fh = width, int(round(width / min(ratio)))
    elif in_ratio > max(ratio):
        fw, fh = int(round(height * max(ratio))), height
    else:
        fw, fh = width, height
    w = np.where(found, w, fw)
    h = np.where(found, h, fh)
    x1 = np.where(found, (rng.random_sample(num) * (width - w + 1)).astype(
        np.int64), (width - fw) // 2)
    y1 = np.where(found, (rng.random_sample(num) * (height - h + 1)).astype(
        np.int64), (height - fh) // 2)
    return np.stack([x1, y1, x1 + w, y1 + h], axis=1).astype(np.float32)


def check_patch_args(owner: str, num_patches: int, patch_size: int,
                     scale: Sequence[float], ratio: Sequence[float]) -> None:
    """Raise a ``ValueError`` naming ``owner`` and the argument for patch settings out of range:
    ``num_patches < 0``, ``patch_size <= 0``, a box area ``scale`` outside ``0 < min <= max <= 1``
    or an aspect ``ratio`` outside ``0 < min <= max``."""
    if num_patches < 0 or patch_size <= 0:
        raise ValueError(f'{owner}: num_patches ({num_patches}) must be >= 0 and patch_size '
                         f'({patch_size}) > 0')
    if not 0 < scale[0] <= scale[1] <= 1:
        raise ValueError(f'{owner}: scale must satisfy 0 < min <= max <= 1, got {tuple(scale)}')
    if not 0 < ratio[0] <= ratio[1]:
        raise ValueError(f'{owner}: ratio must satisfy 0 < min <= max, got {tuple(ratio)}')


@TRANSFORMS.register_module()
class PBSDMultiView(BaseTransform):
    """Views for DSCL + PBSD (Xuan & Zhang, AAAI 2024, Sec. 3.3, Eq. 11-12).

    1. The query pipeline makes the augmented query image (e.g. MoCo v2
       augmentations, flip included).
    2. ``num_patches`` boxes are sampled on that image (area ``scale`` of
       it, aspect ratio ``ratio``), so their pixel xyxy coordinates refer
       exactly to the query image the backbone sees (after its flip).
    3. Each box is cropped from the query image, resized to ``patch_size``
       and goes through its own draw of ``patch_transforms`` (flip / colour
       jitter / grayscale / blur).
    4. ``query_color_transforms`` (if any) then finish the query image.
    5. The key pipeline makes the key view from the original image.

    Where the crops come from: with the whole query pipeline in
    ``query_transforms`` (``query_color_transforms`` None) they are cut
    from the fully augmented query, so they inherit its colour jitter, blur
    and grayscale before their own; with the geometric steps (random resized
    crop, flip) in ``query_transforms`` and the photometric ones in
    ``query_color_transforms`` they are cut from the un-coloured query view,
    as the DSCL authors' code does (``loader_roi.py``), and only their own
    ``patch_transforms`` colour them.

    Output keys: ``img = [query (H, W, 3), key (H, W, 3),
    crops (L, 3, p, p) uint8, channels first]`` and ``patch_boxes`` (L, 4)
    float32. Pack with ``dict(type='PackInputs',
    algorithm_keys=['patch_boxes'])`` and use
    :class:`mmlt.models.utils.PatchViewsDataPreprocessor` (the model
    default), which yields ``[q (B, 3, H, W), k (B, 3, H, W),
    crops (B * L, 3, p, p)]``.

    Args:
        query_transforms (list[dict | callable]): Query view pipeline.
        key_transforms (list[dict | callable], optional): Key view pipeline;
            the query pipeline (both parts) when None (MoCo v2: the same
            augmentations).
        query_color_transforms (list[dict | callable], optional): Query
            steps applied after the crops are cut. Defaults to none.
        patch_transforms (list[dict | callable], optional): Pipeline of each
            resized crop. Defaults to none.
        num_patches (int): L. Defaults to 5.
        patch_size (int): Crop side after resizing. Defaults to 64 (16 suits
            32-px CIFAR).
        scale (tuple[float, float]): Box area range as a fraction of the
            query image. Defaults to (0.05, 0.6).
        ratio (tuple[float, float]): Box aspect-ratio range (w / h).
            Defaults to (3/4, 4/3).
        interpolation (str): ``mmcv.imresize`` interpolation of the crops.
            Defaults to 'bilinear'.
    """

    def __init__(self,
                 query_transforms: List[Transform],
                 key_transforms: Optional[List[Transform]] = None,
                 patch_transforms: Optional[List[Transform]] = None,
                 query_color_transforms: Optional[List[Transform]] = None,
                 num_patches: int = 5,
                 patch_size: int = 64,
                 scale: Sequence[float] = (0.05, 0.6),
                 ratio: Sequence[float] = (3. / 4., 4. / 3.),
                 interpolation: str = 'bilinear') -> None:
        check_patch_args('PBSDMultiView', num_patches, patch_size, scale, ratio)
        if num_patches == 0:
            raise ValueError('PBSDMultiView: num_patches (0) must be positive')
        self.query_pipeline = self._compose(query_transforms)
        self.query_color_pipeline = self._compose(query_color_transforms or [])
        self.key_pipeline = self._compose(
            list(query_transforms) + list(query_color_transforms or [])
            if key_transforms is None else key_transforms)
        self.patch_pipeline = self._compose(patch_transforms or [])
        self.num_patches = num_patches
        self.patch_size = patch_size
        self.scale = tuple(scale)
        self.ratio = tuple(ratio)
        self.interpolation = interpolation

    @staticmethod
    def _compose(transforms: List[Transform]) -> Compose:
        """Compose, building configs in mmpretrain's registry (whatever the
        default scope)."""
        return Compose([
            TRANSFORMS.build(t) if isinstance(t, dict) else t
            for t in transforms
        ])

    def _crops(self, img: np.ndarray, boxes: np.ndarray,
               results: dict) -> np.ndarray:
        """Crop, resize and augment each box -> (L, 3, p, p)."""
        size = (self.patch_size, self.patch_size)
        crops = []
        for x1, y1, x2, y2 in boxes.astype(np.int64):
            crop = mmcv.imresize(
                img[y1:y2, x1:x2], size, interpolation=self.interpolation)
            patch = dict(
                img=crop, img_shape=size, ori_shape=size,
                **{k: v for k, v in results.items() if k in ('img_path',
                                                              'sample_idx')})
            crop = self.patch_pipeline(patch)['img']
            if crop.ndim == 2:
                crop = crop[..., None]
            crops.append(crop)
        return np.ascontiguousarray(np.stack(crops).transpose(0, 3, 1, 2))

    def transform(self, results: dict) -> dict:
        """Make the query, key, boxes and crops.

        Args:
            results (dict): Result dict with ``img``.

        Returns:
            dict: ``img`` = [query, key, crops] and ``patch_boxes``.
        """
        query = self.query_pipeline(copy.deepcopy(results))
        key = self.key_pipeline(copy.deepcopy(results))
        if query is None or key is None:
            return None
        img_q = query['img']
        boxes = sample_boxes(img_q.shape[:2], self.num_patches, self.scale,
                             self.ratio)
        crops = self._crops(img_q, boxes, query)
        if self.query_color_pipeline.transforms:
            query = self.query_color_pipeline(query)
            img_q = query['img']
        results['img'] = [img_q, key['img'], crops]
        results['img_shape'] = img_q.shape[:2]
        results['patch_boxes'] = boxes
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_patches={self.num_patches}, '
                f'patch_size={self.patch_size}, scale={self.scale}, '
                f'ratio={self.ratio}, interpolation={self.interpolation}, '
                f'\nquery={self.query_pipeline}, '
                f'\nquery_color={self.query_color_pipeline}, \nkey={self.key_pipeline}, '
                f'\npatch={self.patch_pipeline})')
