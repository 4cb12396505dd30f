"""Per-sample random augmentation of a whole batch of tensors (kornia), on the model's device."""
import functools
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmlt.datasets.transforms.pbsd import check_patch_args

AugCfg = Union[dict, nn.Module]


def _kornia_augmentation():
    try:
        import kornia.augmentation as K
    except ImportError as e:  # pragma: no cover - kornia is a requirement
        raise ImportError('mmlt batched augmentation needs kornia (pip install kornia)') from e
    return K


def build_augment(cfg: AugCfg) -> nn.Module:
    """One kornia augmentation from ``dict(type='<kornia.augmentation class>', **kwargs)``.

    ``type`` names a class of ``kornia.augmentation`` (``RandomResizedCrop``,
    ``RandomHorizontalFlip``, ``ColorJitter``, ``RandomGrayscale``,
    ``RandomGaussianBlur``, ``RandomCrop``, ...); every one draws its random
    parameters per sample, with probability ``p`` per sample.
    ``RandomResizedCrop`` keeps kornia's parameters and resizes with
    :func:`crop_resize` (one batched bilinear sampling with the half-pixel
    centres of ``mmcv.imresize``, which the per-image ``RandomResizedCrop``
    uses).

    Args:
        cfg (dict | nn.Module): The config, or a module returned as it is.

    Returns:
        nn.Module: The augmentation.
    """
    if isinstance(cfg, nn.Module):
        return cfg
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError(f'batch augmentation config must be a dict with `type`, got {cfg!r}')
    K = _kornia_augmentation()
    args = dict(cfg)
    name = args.pop('type')
    cls = _kornia_rrc() if name == 'RandomResizedCrop' else getattr(K, name, None)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ValueError(f'batch augmentation type {name!r} is not a class of '
                         'kornia.augmentation (e.g. RandomResizedCrop, RandomHorizontalFlip, '
                         'ColorJitter, RandomGrayscale, RandomGaussianBlur, RandomCrop)')
    for key in ('size', 'kernel_size', 'padding'):  # configs hold lists; kornia wants tuples
        if isinstance(args.get(key), list):
            args[key] = tuple(args[key])
    try:
        return cls(**args)
    except TypeError as e:
        raise TypeError(f'batch augmentation {name}: {e}') from e


class BatchAugment(nn.Sequential):
    """A sequence of kornia augmentations applied to a batch, each drawing per sample.

    Input and output are float images ``(N, 3, H, W)`` in ``[0, 1]``, RGB.
    Runs in float32 with autocast off (colour arithmetic in bfloat16 would
    quantise the pixels), and without gradient.

    Args:
        transforms (Sequence[dict | nn.Module]): kornia augmentations
            (see :func:`build_augment`).
    """

    def __init__(self, transforms: Sequence[AugCfg] = ()) -> None:
        super().__init__(*[build_augment(t) for t in transforms])

    @torch.no_grad()
    def forward(self, imgs: Tensor) -> Tensor:
        with torch.autocast(imgs.device.type, enabled=False):
            imgs = imgs.float()
            for aug in self:
                imgs = aug(imgs)
        return imgs


def crop_resize(imgs: Tensor, boxes: Tensor, size: Tuple[int, int]) -> Tensor:
    """Cut box ``n`` out of image ``n`` and resize it bilinearly to ``size``, batched.

    The sampling is that of ``mmcv.imresize`` (cv2 ``INTER_LINEAR``) applied to the cropped
    array: output pixel ``i`` reads the crop at ``(i + 0.5) * crop / size - 0.5`` (half-pixel
    centres, no antialiasing), clamped into the crop, so a crop never sees pixels outside its
    box. One ``grid_sample`` for all boxes.

    Args:
        imgs (Tensor): ``(N, C, H, W)`` float images.
        boxes (Tensor): ``(N, 4)`` pixel xyxy boxes, exclusive ends, inside the images.
        size (tuple[int, int]): Output ``(height, width)``.

    Returns:
        Tensor: ``(N, C, size[0], size[1])``.
    """
    height, width = imgs.shape[-2:]
    boxes = boxes.to(imgs.device, torch.float32)
    x1, y1, x2, y2 = boxes.unbind(1)

    def axis(start, end, out, extent):
        pos = torch.arange(out, device=imgs.device, dtype=torch.float32) + 0.5
        src = start[:, None] + pos[None] * ((end - start) / out)[:, None] - 0.5
        src = torch.minimum(torch.maximum(src, start[:, None]), (end - 1)[:, None])
        return src / max(extent - 1, 1) * 2 - 1  # align_corners=True normalisation

    gx = axis(x1, x2, size[1], width)[:, None, :].expand(-1, size[0], -1)
    gy = axis(y1, y2, size[0], height)[:, :, None].expand(-1, -1, size[1])
    grid = torch.stack([gx, gy], dim=-1)
    return F.grid_sample(imgs.float(), grid, mode='bilinear', padding_mode='border',
                         align_corners=True)


@functools.lru_cache(maxsize=None)
def _kornia_rrc():
    K = _kornia_augmentation()

    class RandomResizedCrop(K.RandomResizedCrop):
        """kornia's ``RandomResizedCrop`` (its per-sample parameters: torchvision's and
        mmpretrain's distribution) with the pixels of :func:`crop_resize`."""

        def apply_transform(self, input, params, flags, transform=None):
            boxes = boxes_from_kornia(params['src'].to(input.device))
            return crop_resize(input, boxes, tuple(flags['size']))

    return RandomResizedCrop


def boxes_from_kornia(src: Tensor) -> Tensor:
    """kornia crop corners ``(N, 4, 2)`` (inclusive pixel indices, clockwise from the top
    left) -> pixel ``xyxy`` boxes ``(N, 4)`` whose ``x2, y2`` are exclusive, as
    :func:`mmlt.datasets.transforms.pbsd.sample_boxes` returns them."""
    x1y1 = src[:, 0]
    x2y2 = src[:, 2] + 1
    return torch.cat([x1y1, x2y2], dim=1)


class MultiViewBatchAugment(nn.Module):
    """The views of contrastive learning drawn for a whole batch at once.

    The batched counterpart of ``MultiView`` / :class:`PBSDMultiView` (same
    parameters, per-sample draws, float tensors on the model's device):

    1. ``query`` makes the query view from each image; without PBSD also
       ``key`` the key view (``query`` again when ``key`` is None, MoCo v2);
    2. with ``num_patches`` = L > 0, L boxes per image are drawn like a
       random resized crop on the query view (area ``scale`` of it, aspect
       ratio ``ratio``), cut and resized to ``patch_size`` (bilinear), and
       each crop gets its own draw of ``patch``;
    3. ``query_color`` is then applied to the query. So the crops are cut
       **after** ``query`` and **before** ``query_color``: with the whole
       query pipeline in ``query`` (``query_color`` None) the crops inherit
       its colour augmentation; with the geometric steps in ``query`` and the
       photometric ones in ``query_color`` the crops come from the
       un-coloured view, as in the DSCL authors' code.

    Args:
        query (Sequence[dict]): Query augmentations (kornia configs).
        key (Sequence[dict], optional): Key augmentations; ``query`` +
            ``query_color`` when None.
        query_color (Sequence[dict], optional): Query augmentations applied
            after the crops are cut. Defaults to none.
        patch (Sequence[dict], optional): Augmentations of each crop.
        num_patches (int): L; 0 makes no crops. Defaults to 0.
        patch_size (int): Crop side after resizing. Defaults to 64.
        scale (tuple[float, float]): Box area range (fraction of the view).
        ratio (tuple[float, float]): Box aspect-ratio range (w / h).
    """

    def __init__(self,
                 query: Sequence[AugCfg],
                 key: Optional[Sequence[AugCfg]] = None,
                 query_color: Optional[Sequence[AugCfg]] = None,
                 patch: Optional[Sequence[AugCfg]] = None,
                 num_patches: int = 0,
                 patch_size: int = 64,
                 scale: Sequence[float] = (0.05, 0.6),
                 ratio: Sequence[float] = (3. / 4., 4. / 3.)) -> None:
        super().__init__()
        check_patch_args('MultiViewBatchAugment', num_patches, patch_size, scale, ratio)
        self.query = BatchAugment(query)
        self.query_color = BatchAugment(query_color or [])
        self.key = BatchAugment(key) if key is not None else None
        self.patch = BatchAugment(patch or [])
        self.num_patches = int(num_patches)
        self.patch_size = int(patch_size)
        self.scale = tuple(float(s) for s in scale)
        self.ratio = tuple(float(r) for r in ratio)
        if self.num_patches:
            self.patch_crop = build_augment(dict(
                type='RandomResizedCrop', size=(self.patch_size, self.patch_size),
                scale=self.scale, ratio=self.ratio))

    def crops(self, view: Tensor) -> Tuple[Tensor, Tensor]:
        """L boxes per image of ``view`` and their resized crops (before ``patch``).

        Args:
            view (Tensor): ``(B, 3, H, W)`` float images.

        Returns:
            tuple[Tensor, Tensor]: crops ``(B * L, 3, p, p)`` (row ``b * L + j`` is box ``j`` of
            image ``b``) and boxes ``(B, L, 4)`` pixel xyxy (exclusive ends) on ``view``.
        """
        batch = view.size(0)
        rep = view.repeat_interleave(self.num_patches, dim=0)
        with torch.autocast(view.device.type, enabled=False):
            params = self.patch_crop.forward_parameters(rep.shape)
            crops = self.patch_crop(rep.float(), params=params)
        boxes = boxes_from_kornia(params['src'].to(view.device, torch.float32))
        return crops, boxes.view(batch, self.num_patches, 4)

    def forward(self, imgs: Tensor) -> Tuple[List[Tensor], Optional[Tensor]]:
        """Draw the views.

        Args:
            imgs (Tensor): ``(B, 3, H, W)`` float RGB images in ``[0, 1]``.

        Returns:
            tuple: ``[query, key]`` or ``[query, key, crops (B * L, 3, p, p)]`` (floats in
            ``[0, 1]``), and the boxes ``(B, L, 4)`` (None without patches).
        """
        q = self.query(imgs)
        views, boxes = [], None
        if self.num_patches:
            crops, boxes = self.crops(q)
            crops = self.patch(crops)
        q = self.query_color(q)
        k = self.key(imgs) if self.key is not None else self.query_color(self.query(imgs))
        views = [q, k] + ([crops] if self.num_patches else [])
        return views, boxes

    def extra_repr(self) -> str:
        return (f'num_patches={self.num_patches}, patch_size={self.patch_size}, '
                f'scale={self.scale}, ratio={self.ratio}')
