from . import samplers, transforms  # noqa: F401
from .base import LDAMSubsetMixin, LTDatasetMixin
from .cifar_lt import CIFAR10LT, CIFAR100LT
from .list_dataset import (INaturalist2018, ImageNetLT,
                           LTListDataset, PlacesLT)
from .tiny_imagenet_lt import TinyImageNetLT

__all__ = [
    'LTDatasetMixin', 'LDAMSubsetMixin', 'CIFAR10LT', 'CIFAR100LT',
    'TinyImageNetLT', 'LTListDataset', 'ImageNetLT', 'PlacesLT',
    'INaturalist2018'
]
