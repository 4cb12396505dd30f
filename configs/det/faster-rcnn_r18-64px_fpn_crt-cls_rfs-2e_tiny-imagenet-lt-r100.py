# The decoupled box-classifier stage (faster-rcnn_r18-cifar_fpn_crt-cls_rfs-2e_*: everything frozen
# but roi_head.bbox_head.fc_cls, repeat-factor sampling) for the ImageNet-stem 64 px detectors
# (faster-rcnn_r18-64px_fpn_*, the model of _base_/models/faster-rcnn_r18-64px_fpn_delta.py):
# load_from one of them.
_base_ = [
    './faster-rcnn_r18-cifar_fpn_crt-cls_rfs-2e_tiny-imagenet-lt-r100.py',
    './_base_/models/faster-rcnn_r18-64px_fpn_delta.py',
]

load_from = 'work_dirs/faster-rcnn_r18-64px_fpn_ce-stage1_cpu-4e_tiny-imagenet-lt-r100/epoch_4.pth'
model = {{_base_.r18_64px_model}}
