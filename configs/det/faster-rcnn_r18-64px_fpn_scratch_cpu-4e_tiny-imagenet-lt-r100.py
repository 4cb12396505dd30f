# Faster R-CNN R18-FPN on Tiny-ImageNet-LT detection (IR 100), random init, with MMPretrain's
# ResNet-18 ImageNet stem (7x7 stride-2 conv and max-pool; mmlt.det.ImageNetStemResNet) on the
# native 64 px images: strides 4, 8, 16, 32 (16 x 16 ... 2 x 2), about 16x fewer backbone
# operations than the CIFAR stem of faster-rcnn_r18-cifar_fpn_scratch_*, whose FPN, anchors
# (8 ... 64 px) and RoI level mapping it keeps in image pixels: all four stages into the FPN,
# anchors 2 x stride, RoIs pooled from strides 4, 8, 16 (a box under 56 px on stride 4).
# Then the box head's two 1024-wide FCs are most of the cost: 256 wide here, 64 sampled RoIs an
# image (128 in the CIFAR-stem config): 0.66 s an iteration at batch 16 with bf16 on a 2-core
# AVX512-BF16 CPU (1.3 s with the 1024-wide head and 128 RoIs), about 15 min an epoch.
# Its stage-1 classifiers: the Tiny-ImageNet ResNet-18 configs with model.backbone.type='ResNet'.
_base_ = './faster-rcnn_r18-cifar_fpn_scratch_cpu-4e_tiny-imagenet-lt-r100.py'

model = dict(
    backbone=dict(type='ImageNetStemResNet'),
    neck=dict(start_level=0),
    rpn_head=dict(anchor_generator=dict(scales=[2], strides=[4, 8, 16, 32])),
    roi_head=dict(bbox_roi_extractor=dict(featmap_strides=[4, 8, 16]),
                  bbox_head=dict(fc_out_channels=256)),
    train_cfg=dict(rcnn=dict(sampler=dict(num=64))))
