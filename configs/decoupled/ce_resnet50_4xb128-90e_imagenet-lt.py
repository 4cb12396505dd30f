# ce_resnext50_4xb128-90e_imagenet-lt.py with a ResNet-50 backbone.
_base_ = './ce_resnext50_4xb128-90e_imagenet-lt.py'

model = dict(
    backbone=dict(_delete_=True, type='ResNet', depth=50, out_indices=(3, ), style='pytorch'))
