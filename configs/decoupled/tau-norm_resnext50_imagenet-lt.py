# Stage 2, tau-normalisation (Kang et al.) of the instance-balanced stage-1 ResNeXt-50: no
# training; tau is chosen on ImageNet_LT_val and reported on ImageNet_LT_test:
#   python tools/tau_norm_sweep.py THIS_CONFIG work_dirs/ce_resnext50_4xb128-90e_imagenet-lt/epoch_90.pth
# then test with the chosen tau:
#   python tools/test.py THIS_CONFIG work_dirs/ce_resnext50_4xb128-90e_imagenet-lt/epoch_90.pth --cfg-options model.head.tau=TAU
_base_ = [
    'mmpretrain::_base_/models/resnext50_32x4d.py',
    '../_base_/datasets/imagenet_lt_decoupling.py',
    '../_base_/default_runtime.py',
]
# no training in this stage
train_dataloader = None
val_cfg = dict()
test_cfg = dict()
model = dict(head=dict(type='TauNormHead', tau=1.0))
