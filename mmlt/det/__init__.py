# Copyright (c) mmlt contributors. All rights reserved.
"""Long-tailed object detection through MMDetection.

Importing ``mmlt.det`` (configs do it with
``custom_imports = dict(imports=['mmlt.det'], allow_failed_imports=False)``)
registers into MMDetection's registries:

* ``mmdet.registry.DATASETS``: :class:`TinyImageNetLTDet` (a ``CocoDataset``
  over the COCO-format annotations of Tiny-ImageNet-LT, built and cached on
  first use);
* ``mmdet.registry.DATASETS``: :class:`TinyImageNetLTDetMosaic` (its k x k
  mosaic training set, built and cached on first use);
* ``mmdet.registry.METRICS``: :class:`LongTailCocoMetric` (COCO box AP plus
  LVIS-style AP_r / AP_c / AP_f and a per-class CSV and plot);
* ``mmdet.registry.MODELS``: :class:`CifarStemResNet` (MMPretrain's
  ``ResNet_CIFAR``, the backbone of mmlt's Tiny-ImageNet / CIFAR stage-1
  classifiers, with its four stages for an FPN, so that a stage-1 checkpoint
  loads exactly; its ``Pretrained`` init is checked) and
  :class:`ImageNetStemResNet` (MMPretrain's ``ResNet``, the same check);
* ``mmdet.registry.HOOKS``: :class:`FreezeAllButHook` (decoupled classifier
  re-training: everything but the final box classifier frozen).

``import mmlt`` alone never imports mmdet; this package needs it.
"""
try:
    import mmdet  # noqa: F401
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        'mmlt.det needs MMDetection (mmdet >= 3.0, with mmcv built with its ops): '
        f'pip install mmdet ({e})') from e

from mmlt.utils.compat import patch_lvis_numpy2, patch_mmcv_ops_autocast  # noqa: E402

patch_lvis_numpy2()  # lvis (MMDetection's LVISMetric) under numpy 2
patch_mmcv_ops_autocast()  # mmcv's CPU nms / RoIAlign under bf16 autocast

from .datasets import (TinyImageNetLTDet, build_tiny_imagenet_lt_det,  # noqa: E402
                       build_tiny_imagenet_lt_det_mosaic, check_coco,
                       frequency_groups)
from .datasets.tiny_imagenet_lt_det_mosaic import TinyImageNetLTDetMosaic  # noqa: E402
from .engine import FreezeAllButHook  # noqa: E402
from .evaluation import LongTailCocoMetric  # noqa: E402
from .models import CifarStemResNet, ImageNetStemResNet, check_pretrained  # noqa: E402

__all__ = [
    'TinyImageNetLTDet', 'build_tiny_imagenet_lt_det',
    'build_tiny_imagenet_lt_det_mosaic', 'check_coco', 'frequency_groups',
    'LongTailCocoMetric', 'TinyImageNetLTDetMosaic', 'CifarStemResNet', 'ImageNetStemResNet',
    'check_pretrained', 'FreezeAllButHook'
]
