# The decoupled box-classifier stage (faster-rcnn_r18-cifar_fpn_crt-cls_rfs-2e_*: everything frozen
# but roi_head.bbox_head.fc_cls, repeat-factor sampling) for the ImageNet-stem 64 px detectors
# (faster-rcnn_r18-64px_fpn_*): load_from one of them. The model is theirs (the same block as
# faster-rcnn_r18-64px_fpn_scratch_*; a config cannot inherit both).
_base_ = './faster-rcnn_r18-cifar_fpn_crt-cls_rfs-2e_tiny-imagenet-lt-r100.py'

load_from = 'work_dirs/faster-rcnn_r18-64px_fpn_ce-stage1_cpu-4e_tiny-imagenet-lt-r100/epoch_4.pth'
model = dict(
    backbone=dict(type='ImageNetStemResNet'),
    neck=dict(start_level=0),
    rpn_head=dict(anchor_generator=dict(scales=[2], strides=[4, 8, 16, 32])),
    roi_head=dict(bbox_roi_extractor=dict(featmap_strides=[4, 8, 16]),
                  bbox_head=dict(fc_out_channels=256)),
    train_cfg=dict(rcnn=dict(sampler=dict(num=64))))
