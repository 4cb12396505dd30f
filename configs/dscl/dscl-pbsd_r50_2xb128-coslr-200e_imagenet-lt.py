# Table 1 of the DSCL paper, row "DSCL + PBSD" (57.7 top-1 on ImageNet-LT): the full recipe.
_base_ = '../dscl_r50_imagenet-lt.py'
