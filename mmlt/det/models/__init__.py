# Copyright (c) mmlt contributors. All rights reserved.
from .cifar_stem_resnet import CifarStemResNet, ImageNetStemResNet, check_pretrained

__all__ = ['CifarStemResNet', 'ImageNetStemResNet', 'check_pretrained']
