# Faster R-CNN R18-FPN for 64 px Tiny-ImageNet-LT (mmdet's faster-rcnn_r50_fpn, adapted):
# * backbone: mmlt.det.CifarStemResNet, i.e. MMPretrain's ResNet_CIFAR depth 18 (3x3 stride-1 stem,
#   no max-pool: stages at strides 1, 2, 4, 8), the backbone of mmlt's Tiny-ImageNet stage-1
#   classifiers, so that their checkpoints load exactly (mmdet's ResNet-18 has a 7x7 stride-2 stem
#   and a max-pool). Random init here (MMPretrain's: Kaiming convs, zero-init residual BN);
#   BatchNorm trained (norm_eval=False), no frozen stage;
# * data preprocessor: the stage-1 classifiers' mean / std (Tiny-ImageNet-LT RGB statistics);
# * FPN on strides 2, 4, 8 (start_level=1: the stride-1 stage costs most and Tiny-ImageNet's boxes
#   are 46 px median, 5 % under 13 px) plus a max-pooled stride-16 level; anchors 4 x stride
#   (8, 16, 32, 64 px, ratios 0.5 / 1 / 2); RoIs mapped to levels with finest_scale=28 (mmdet's
#   56 for stride 4, scaled to stride 2: a level gets boxes of 14-28 x its stride);
# * CPU budget (2 cores): 128 FPN / RPN / RoI channels (256 in mmdet), 500 training proposals per
#   image (1000), 128 sampled RoIs (512), 100 test proposals (1000): an image holds one object;
#   test score_thr 0.05 and 100 boxes per image as mmdet's COCO (LVIS uses 1e-4 and 300, but at
#   1e-4 an untrained 200-class head passes 60k boxes per image to NMS).
_base_ = 'mmdet::_base_/models/faster-rcnn_r50_fpn.py'

model = dict(
    data_preprocessor=dict(
        mean=[122.46, 114.26, 101.37],
        std=[70.49, 68.56, 71.81],
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(
        _delete_=True,
        type='CifarStemResNet',
        depth=18,
        out_indices=(0, 1, 2, 3),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=128, start_level=1, num_outs=4),
    rpn_head=dict(in_channels=128, feat_channels=128,
                  anchor_generator=dict(scales=[4], strides=[2, 4, 8, 16])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=128, featmap_strides=[2, 4, 8], finest_scale=28),
        bbox_head=dict(in_channels=128, num_classes=200)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=1000, max_per_img=500),
        rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(
        rpn=dict(nms_pre=1000, max_per_img=100),
        rcnn=dict(score_thr=0.05, max_per_img=100)))
