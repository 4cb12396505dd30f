# RetinaNet R18-FPN on Tiny-ImageNet-LT detection (IR 100), init (c): ImageNet-1k (torchvision's
# ResNet-18, 'torchvision://resnet18', downloaded on first use into torch's hub cache).
# mmdet's ResNet-18 (7x7 stride-2 stem and max-pool, ImageNet mean / std) on the images upscaled 4x
# to 256 px: its strides 4 ... 32 then cover the same 64 px pixels as the CIFAR-stem backbone's
# 1 ... 8 at 64 px, so the FPN levels, anchors (8 ... 64 px of the original image) and RoI level
# mapping match init (a) / (b) in original pixels, at about the same cost.
# Pretrained backbone as in mmdet: stem and first stage frozen, BatchNorm statistics frozen.
# Schedule: CPU, 2 cores: 4 epochs at batch 16 (_base_/schedules/cpu_sgd_4e.py).
_base_ = './retinanet_r18-cifar_fpn_scratch_cpu-4e_tiny-imagenet-lt-r100.py'

img_scale = (256, 256)
model = dict(
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]),
    backbone=dict(
        _delete_=True,
        type='ResNet',
        depth=18,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    bbox_head=dict(anchor_generator=dict(strides=[8, 16, 32, 64, 128])))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
