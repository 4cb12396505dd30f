# Faster R-CNN R18-FPN on Tiny-ImageNet-LT detection (IR 100), init (b) with an mmlt DSCL stage 1:
# the 'backbone.' (query encoder) of configs/dscl/dscl_r18_1xb256-coslr-200e_tiny-imagenet-lt-r100.py's
# checkpoint; everything else as the CE-initialised config it inherits.
_base_ = './faster-rcnn_r18-cifar_fpn_ce-stage1_cpu-4e_tiny-imagenet-lt-r100.py'

stage1_checkpoint = 'work_dirs/dscl_r18_1xb256-coslr-200e_tiny-imagenet-lt-r100/epoch_200.pth'
model = dict(backbone=dict(init_cfg=dict(checkpoint=stage1_checkpoint)))
