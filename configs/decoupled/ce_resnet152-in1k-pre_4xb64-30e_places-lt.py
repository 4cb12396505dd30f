# Stage 1 of Kang et al. (ICLR 2020) on Places-LT: a ResNet-152 pretrained on ImageNet-1k
# (MMPretrain's resnet152_8xb32_in1k) fine-tuned with cross-entropy and instance-balanced
# sampling for 30 epochs; batch 256 (4 GPUs x 64), their Places-LT learning rates (backbone
# 0.01, classifier 0.1, config/Places_LT/cls_*.yaml), cosine to 0, momentum 0.9, wd 5e-4.
# Stage 2: crt_ / lws_ / tau-norm_resnet152_*places-lt.py.
#
#   tools/dist_train.sh configs/decoupled/ce_resnet152-in1k-pre_4xb64-30e_places-lt.py 4
_base_ = [
    'mmpretrain::_base_/models/resnet152.py',
    '../_base_/datasets/places_lt_decoupling.py',
    '../_base_/schedules/decoupling_sgd_cos_90e.py',
    '../_base_/default_runtime.py',
]
in1k_checkpoint = ('https://download.openmmlab.com/mmclassification/v0/resnet/'
                   'resnet152_8xb32_in1k_20210901-4d7582fa.pth')

model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained', checkpoint=in1k_checkpoint, prefix='backbone.')),
    head=dict(num_classes=365))
optim_wrapper = dict(
    optimizer=dict(lr=0.1),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}))
train_cfg = dict(max_epochs=30)
auto_scale_lr = dict(base_batch_size=256)
