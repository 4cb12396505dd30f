"""PBSD patch features: RoIAlign on the last feature map, averaged per box."""
import importlib.util
from typing import Optional, Sequence, Union

import torch
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor


def mmcv_ops_available() -> bool:
    """Whether mmcv's compiled ops (``mmcv._ext``) are installed."""
    try:
        return importlib.util.find_spec('mmcv._ext') is not None
    except (ImportError, ValueError):
        return False


@MODELS.register_module()
class PatchRoINeck(BaseModule):
    """Patch-based features of PBSD (Xuan & Zhang, AAAI 2024, Eq. 11).

    For each box b_ij (pixel xyxy on the input image) it computes
    ``mean over the output_size x output_size cells of
    RoIAlign(feature_map_i, b_ij)``, i.e. the un-projected patch feature that
    the query projection head then maps to f_ij. The paper uses a 2x2 output
    on the last ResNet stage (spatial_scale 1/32).

    Two backends compute the same thing: ``mmcv.ops.RoIAlign`` with
    ``pool_mode='avg'`` (needs mmcv's compiled ops) and
    ``torchvision.ops.roi_align`` (always average pooling). Both take the
    same ``spatial_scale``, ``sampling_ratio`` (<= 0: adaptive,
    ``ceil(roi_size / output_size)`` samples per bin) and ``aligned`` (True:
    shift by -0.5 pixel, the detectron2 convention). ``backend='auto'`` picks
    mmcv when ``mmcv._ext`` exists, torchvision otherwise; the chosen one is
    in :attr:`backend`.

    Args:
        output_size (int): RoIAlign output height = width. Defaults to 2.
        spatial_scale (float): Feature-map size / input size, 1 / stride.
            Defaults to 1/32 (ResNet-50 at 224 px).
        sampling_ratio (int): Samples per bin side; <= 0 is adaptive.
            Defaults to 0.
        aligned (bool): Pixel-shift convention. Defaults to True.
        backend (str): ``'auto'``, ``'mmcv'`` or ``'torchvision'``.
        init_cfg (dict, optional): Unused (no parameters).
    """

    BACKENDS = ('auto', 'mmcv', 'torchvision')

    def __init__(self,
                 output_size: int = 2,
                 spatial_scale: float = 1. / 32,
                 sampling_ratio: int = 0,
                 aligned: bool = True,
                 backend: str = 'auto',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if backend not in self.BACKENDS:
            raise ValueError(f'PatchRoINeck: backend must be one of '
                             f'{self.BACKENDS}, got {backend!r}')
        if backend == 'auto':
            backend = 'mmcv' if mmcv_ops_available() else 'torchvision'
        self.backend = backend
        self.output_size = (output_size, output_size)
        self.spatial_scale = float(spatial_scale)
        self.sampling_ratio = max(int(sampling_ratio), 0)
        self.aligned = aligned
        if backend == 'mmcv':
            from mmcv.ops import RoIAlign
            self.roi_align = RoIAlign(
                self.output_size,
                spatial_scale=self.spatial_scale,
                sampling_ratio=self.sampling_ratio,
                pool_mode='avg',
                aligned=aligned)
        else:
            from torchvision.ops import RoIAlign
            self.roi_align = RoIAlign(
                self.output_size,
                spatial_scale=self.spatial_scale,
                sampling_ratio=self.sampling_ratio,
                aligned=aligned)

    @staticmethod
    def stack_boxes(boxes: Union[Tensor, Sequence[Tensor]]) -> Tensor:
        """(B, L, 4) tensor from a tensor or B tensors (L, 4)."""
        if not isinstance(boxes, Tensor):
            boxes = [torch.as_tensor(b) for b in boxes]
            if len({b.shape for b in boxes}) > 1:
                raise ValueError('PatchRoINeck: every image needs the same '
                                 'number of boxes, got shapes '
                                 f'{[tuple(b.shape) for b in boxes]}')
            boxes = torch.stack(boxes)
        if boxes.dim() != 3 or boxes.size(-1) != 4:
            raise ValueError('PatchRoINeck: boxes must be (B, L, 4) xyxy, got '
                             f'{tuple(boxes.shape)}')
        return boxes

    @staticmethod
    def boxes_to_rois(boxes: Tensor) -> Tensor:
        """(B, L, 4) boxes -> (B * L, 5) rois with the batch index first;
        row ``b * L + j`` is box ``j`` of image ``b``."""
        batch, num = boxes.shape[:2]
        idx = torch.arange(batch, device=boxes.device, dtype=boxes.dtype)
        idx = idx.repeat_interleave(num).unsqueeze(1)
        return torch.cat([idx, boxes.reshape(-1, 4)], dim=1)

    def forward(self, feat: Tensor,
                boxes: Union[Tensor, Sequence[Tensor]]) -> Tensor:
        """Pool one feature vector per box.

        Args:
            feat (Tensor): Last backbone feature map (B, C, H, W).
            boxes (Tensor | list[Tensor]): (B, L, 4) or B x (L, 4) boxes in
                input-pixel xyxy coordinates.

        Returns:
            Tensor: (B, L, C) patch features.
        """
        boxes = self.stack_boxes(boxes).to(feat.device, torch.float32)
        if boxes.size(0) != feat.size(0):
            raise ValueError(f'PatchRoINeck: {boxes.size(0)} box sets for a '
                             f'batch of {feat.size(0)} feature maps')
        # RoIAlign runs in float32 (a small op): mmcv's kernels have no
        # bfloat16 version, and box coordinates in half precision would be
        # rounded by up to a pixel or more on 224 px images.
        with torch.autocast(feat.device.type, enabled=False):
            pooled = self.roi_align(feat.float(), self.boxes_to_rois(boxes))
        pooled = pooled.mean(dim=(2, 3)).to(feat.dtype)
        return pooled.view(*boxes.shape[:2], -1)

    def extra_repr(self) -> str:
        return (f'backend={self.backend}, output_size={self.output_size}, '
                f'spatial_scale={self.spatial_scale}, '
                f'sampling_ratio={self.sampling_ratio}, '
                f'aligned={self.aligned}')
