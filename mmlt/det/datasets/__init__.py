# Copyright (c) mmlt contributors. All rights reserved.
from .coco_format import check_coco, frequency_groups, image_counts
from .mosaic import build_tiny_imagenet_lt_det_mosaic, mosaic_groups
from .tiny_imagenet_lt_det import (TINY_IMAGENET_WNIDS, TinyImageNetLTDet,
                                   build_tiny_imagenet_lt_det,
                                   default_ann_file)

__all__ = [
    'check_coco', 'frequency_groups', 'image_counts',
    'build_tiny_imagenet_lt_det', 'build_tiny_imagenet_lt_det_mosaic',
    'mosaic_groups', 'default_ann_file', 'TINY_IMAGENET_WNIDS',
    'TinyImageNetLTDet'
]
