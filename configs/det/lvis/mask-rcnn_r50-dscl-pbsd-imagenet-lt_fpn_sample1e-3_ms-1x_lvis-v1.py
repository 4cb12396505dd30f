# As mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py (repeat-factor sampling), with the backbone of
# an mmlt DSCL + PBSD stage 1 on ImageNet-LT (see
# faster-rcnn_r50-dscl-pbsd-imagenet-lt_fpn_sample1e-3_ms-1x_lvis-v1.py).
_base_ = './mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py'

stage1_checkpoint = 'work_dirs/dscl-pbsd_r50_2xb128-coslr-200e_imagenet-lt/epoch_200.pth'
model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', prefix='backbone.', checkpoint=stage1_checkpoint)))
