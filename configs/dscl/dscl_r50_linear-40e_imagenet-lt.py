# DSCL stage 2 on ImageNet-LT: a linear classifier (weights N(0, 0.01)) on the frozen stage-1
# ResNet-50 (BatchNorm in eval mode, features = backbone + global average pooling, the `feat`
# of DSCL's predict mode), class-balanced sampling, 40 epochs, lr 10, batch 2048 (2 x 1024),
# wd 0, x0.1 at epochs 20 and 30. The best epoch is picked on ImageNet_LT_val; report the test
# split (`tools/test.py ... work_dirs/dscl_r50_linear-40e_imagenet-lt/best_*.pth`).
#
#   tools/dist_train.sh configs/dscl/dscl_r50_linear-40e_imagenet-lt.py 2 \
#       --cfg-options model.init_cfg.checkpoint=work_dirs/dscl_r50_imagenet-lt/epoch_200.pth
#   (the default below is that path)
_base_ = [
    '../_base_/datasets/imagenet_lt_linear_dscl.py',
    '../_base_/schedules/dscl_linear_sgd_step_40e.py',
    '../_base_/default_runtime.py',
]
stage1_checkpoint = 'work_dirs/dscl_r50_imagenet-lt/epoch_200.pth'

model = dict(
    type='DecoupledClassifier',
    freeze=('backbone', 'neck'),
    # the stage-1 backbone config (configs/_base_/models/dscl_resnet50.py)
    backbone=dict(
        type='ResNet',
        depth=50,
        out_indices=(3, ),
        norm_cfg=dict(type='BN'),
        zero_init_residual=False),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=2048,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5),
        init_cfg=dict(type='Normal', layer='Linear', std=0.01)),
    # routed to the backbone by DecoupledClassifier: loads `backbone.*` of the DSCL checkpoint
    init_cfg=dict(
        type='Pretrained', checkpoint=stage1_checkpoint, prefix='backbone.'))

default_hooks = dict(
    checkpoint=dict(
        interval=10, max_keep_ckpts=1, save_best='accuracy/top1',
        rule='greater'))
