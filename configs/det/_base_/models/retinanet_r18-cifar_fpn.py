# RetinaNet R18-FPN for 64 px Tiny-ImageNet-LT (mmdet's retinanet_r50_fpn, adapted):
# * backbone: mmlt.det.CifarStemResNet (MMPretrain's ResNet_CIFAR depth 18, strides 1, 2, 4, 8;
#   see faster-rcnn_r18-cifar_fpn.py), random init, BatchNorm trained;
# * FPN on strides 2, 4, 8 plus two stride-2 convs on C5 (strides 16, 32); anchors
#   octave_base_scale 4 x stride (8 ... 128 px, 3 scales per octave, 3 ratios) as in mmdet;
# * CPU budget: 128 FPN / head channels (256 in mmdet) and 2 stacked head convs (4): with 200
#   classes the 32x32 stride-2 level dominates the cost (retina_cls alone outputs 1800 channels);
#   test score_thr 0.05, 100 boxes per image (mmdet's).
_base_ = 'mmdet::_base_/models/retinanet_r50_fpn.py'

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
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=128, start_level=1,
              add_extra_convs='on_input', num_outs=5),
    bbox_head=dict(
        num_classes=200,
        in_channels=128,
        feat_channels=128,
        stacked_convs=2,
        anchor_generator=dict(strides=[2, 4, 8, 16, 32])),
    test_cfg=dict(score_thr=0.05, max_per_img=100))
