# What the ImageNet-stem Faster R-CNN R18-FPN at 64 px changes in faster-rcnn_r18-cifar_fpn.py, as
# one dict that configs inheriting a CIFAR-stem config merge into their model
# (model = {{_base_.r18_64px_model}}): mmlt.det.ImageNetStemResNet (MMPretrain's ResNet: 7x7
# stride-2 stem and max-pool, strides 4, 8, 16, 32 at 64 px, about 16x fewer backbone operations
# than the CIFAR stem); all four stages into the FPN; anchors 2 x stride (the same 8 ... 64 px);
# RoIs pooled from strides 4, 8, 16 (finest_scale 28 kept: a box under 56 px on stride 4). Then
# the box head's two 1024-wide FCs are most of the cost: 256 wide here, 64 sampled RoIs an image
# (128 in the CIFAR-stem config): 0.66 s an iteration at batch 16 with bf16 on a 2-core
# AVX512-BF16 CPU (1.3 s with the 1024-wide head and 128 RoIs), about 15 min an epoch.
r18_64px_model = dict(
    backbone=dict(type='ImageNetStemResNet'),
    neck=dict(start_level=0),
    rpn_head=dict(anchor_generator=dict(scales=[2], strides=[4, 8, 16, 32])),
    roi_head=dict(bbox_roi_extractor=dict(featmap_strides=[4, 8, 16]),
                  bbox_head=dict(fc_out_channels=256)),
    train_cfg=dict(rcnn=dict(sampler=dict(num=64))))
