# crt_resnext50_4xb128-10e_imagenet-lt.py on the instance-balanced stage-1 ResNet-50.
_base_ = './crt_resnext50_4xb128-10e_imagenet-lt.py'
stage1_checkpoint = 'work_dirs/ce_resnet50_4xb128-90e_imagenet-lt/epoch_90.pth'

model = dict(
    backbone=dict(_delete_=True, type='ResNet', depth=50, out_indices=(3, ), style='pytorch'),
    init_cfg=dict(checkpoint=stage1_checkpoint))
