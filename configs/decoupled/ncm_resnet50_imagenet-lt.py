# ncm_resnext50_imagenet-lt.py for the stage-1 ResNet-50
# (work_dirs/ce_resnet50_4xb128-90e_imagenet-lt/epoch_90.pth).
_base_ = './ncm_resnext50_imagenet-lt.py'

model = dict(
    backbone=dict(_delete_=True, type='ResNet', depth=50, out_indices=(3, ), style='pytorch'))
