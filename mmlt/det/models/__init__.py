# Copyright (c) mmlt contributors. All rights reserved.
from .cifar_stem_resnet import CifarStemResNet, check_pretrained

__all__ = ['CifarStemResNet', 'check_pretrained']
