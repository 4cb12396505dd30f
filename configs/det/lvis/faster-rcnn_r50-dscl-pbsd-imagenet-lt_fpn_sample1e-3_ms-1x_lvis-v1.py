# As faster-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py (repeat-factor sampling), with the backbone of
# an mmlt DSCL + PBSD stage 1 on ImageNet-LT instead of torchvision's ImageNet-1k ResNet-50:
# configs/dscl/dscl-pbsd_r50_2xb128-coslr-200e_imagenet-lt.py's checkpoint, its 'backbone.' (the
# query encoder, MMPretrain's ResNet-50, whose keys are mmdet's ResNet-50's). Set the path with
#   --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/<stage1>/epoch_200.pth
# (or a backbone-only file of tools/model_converters/extract_backbone.py, prefix '').
_base_ = './faster-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py'

stage1_checkpoint = 'work_dirs/dscl-pbsd_r50_2xb128-coslr-200e_imagenet-lt/epoch_200.pth'
model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', prefix='backbone.', checkpoint=stage1_checkpoint)))
