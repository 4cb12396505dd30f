# Copyright (c) mmlt contributors. All rights reserved.
"""The k x k mosaic training set of Tiny-ImageNet-LT detection as a dataset that builds itself."""
import os.path as osp
from typing import List, Optional, Sequence

from mmdet.registry import DATASETS

from .coco_format import LVIS_FREQ_THRESHOLDS
from .mosaic import build_tiny_imagenet_lt_det_mosaic
from .tiny_imagenet_lt_det import TinyImageNetLTDet, default_ann_file


@DATASETS.register_module()
class TinyImageNetLTDetMosaic(TinyImageNetLTDet):
    """:class:`TinyImageNetLTDet` over the mosaic of the long-tailed training split.

    The annotation file defaults to :func:`default_ann_file` with the mosaic
    (``annotations/tiny-imagenet-lt-r100-mosaic-k2-c128_train.json``, what
    ``tools/det/make_tiny_imagenet_lt_det.py --mosaic-k 2 --mosaic-canvas
    128`` writes); a missing one is built on first use (the canvases too:
    ``data_root/mosaic/<name>/images``, about 220 MB of PNG for IR 100,
    k = 2). A file whose ``info['mosaic']`` has another ``k`` / ``canvas``
    is an error naming it.

    Args:
        mosaic_k (int): Tiles per side. Defaults to 2.
        mosaic_canvas (int): Canvas side (pixels). Defaults to 128.
        mosaic_seed (int, optional): Seed of the permutation; defaults to ``seed``.
        Others: as :class:`TinyImageNetLTDet` (``split`` is always ``'train'``).
    """

    def __init__(self,
                 ann_file: str = '',
                 mosaic_k: int = 2,
                 mosaic_canvas: int = 128,
                 mosaic_seed: Optional[int] = None,
                 imb_ratio: float = 100,
                 imb_type: str = 'exp',
                 seed: int = 0,
                 freq_thresholds: Sequence[int] = LVIS_FREQ_THRESHOLDS,
                 **kwargs) -> None:
        split = kwargs.pop('split', 'train')
        if split != 'train':
            raise ValueError(f"TinyImageNetLTDetMosaic: the mosaic is of the 'train' split, got "
                             f'split={split!r} (evaluate on TinyImageNetLTDet split=\'val\')')
        self.mosaic = dict(k=int(mosaic_k), canvas=int(mosaic_canvas),
                           seed=int(seed if mosaic_seed is None else mosaic_seed))
        super().__init__(
            ann_file=ann_file or default_ann_file('train', imb_ratio, imb_type, seed,
                                                  self.mosaic),
            split='train', imb_ratio=imb_ratio, imb_type=imb_type, seed=seed,
            freq_thresholds=freq_thresholds, **kwargs)

    def load_data_list(self) -> List[dict]:
        if not osp.isfile(self.ann_file):
            if not self.auto_build:
                raise FileNotFoundError(
                    f'TinyImageNetLTDetMosaic: {self.ann_file} does not exist '
                    '(auto_build=False); make it with python3 '
                    'tools/det/make_tiny_imagenet_lt_det.py --root '
                    f'{self.data_root or "DATA_ROOT"} --imb-ratio {self.imb_ratio:g} '
                    f"--mosaic-k {self.mosaic['k']} --mosaic-canvas {self.mosaic['canvas']}")
            build_tiny_imagenet_lt_det_mosaic(
                self.data_root, imb_ratio=self.imb_ratio, imb_type=self.imb_type,
                seed=self.seed, k=self.mosaic['k'], canvas=self.mosaic['canvas'],
                mosaic_seed=self.mosaic['seed'], out_file=self.ann_file,
                freq_thresholds=self.freq_thresholds)
        return super().load_data_list()

    def _check_annotation_file(self, coco: dict) -> None:
        found = (coco.get('info') or {}).get('mosaic')
        if not isinstance(found, dict):
            raise ValueError(f'{self.ann_file}: not a mosaic annotation file (no info.mosaic); '
                             'use TinyImageNetLTDet for the plain set')
        for key in ('k', 'canvas'):
            if found.get(key) != self.mosaic[key]:
                raise ValueError(
                    f'{self.ann_file}: mosaic built with {key}={found.get(key)!r} but the '
                    f'dataset asks for mosaic_{key}={self.mosaic[key]!r}')
        super()._check_annotation_file(coco)
