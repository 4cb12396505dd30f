# RetinaNet R18-FPN on Tiny-ImageNet-LT detection (IR 100), init (b): an mmlt stage-1 classifier.
# The backbone (MMPretrain's ResNet_CIFAR depth 18, as mmlt.det.CifarStemResNet) loads the
# 'backbone.' weights of configs/decoupled/ce_resnet18_1xb128-200e_tiny-imagenet-lt-r100.py's
# checkpoint exactly (same modules and keys; CifarStemResNet checks the file, the prefix and every
# key and shape before mmengine's Pretrained init loads it). Any mmlt Tiny-ImageNet ResNet-18
# stage-1 checkpoint works the same (DSCL / PBSD: 'backbone.' is the query encoder):
#   python3 tools/det/train.py configs/det/retinanet_r18-cifar_fpn_ce-stage1_cpu-4e_tiny-imagenet-lt-r100.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/<stage1>/epoch_200.pth
# Pretrained backbone as in mmdet: stem and first stage frozen, BatchNorm statistics frozen.
# Schedule: CPU, 2 cores: 4 epochs at batch 16 (_base_/schedules/cpu_sgd_4e.py).
_base_ = './retinanet_r18-cifar_fpn_scratch_cpu-4e_tiny-imagenet-lt-r100.py'

stage1_checkpoint = 'work_dirs/ce_resnet18_1xb128-200e_tiny-imagenet-lt-r100/epoch_200.pth'
model = dict(
    backbone=dict(
        frozen_stages=1,
        norm_eval=True,
        init_cfg=dict(type='Pretrained', prefix='backbone.', checkpoint=stage1_checkpoint)))
