# Copyright (c) mmlt contributors. All rights reserved.
from .lt_coco_metric import (LongTailCocoMetric, per_class_ap,
                             plot_per_class_ap)

__all__ = ['LongTailCocoMetric', 'per_class_ap', 'plot_per_class_ap']
