# Stage 2, tau-normalisation (Kang et al.) of the Places-LT stage-1 ResNet-152: no training;
# tau is chosen on Places_LT_val and reported on Places_LT_test:
#   python tools/tau_norm_sweep.py THIS_CONFIG work_dirs/ce_resnet152-in1k-pre_4xb64-30e_places-lt/epoch_30.pth
_base_ = [
    'mmpretrain::_base_/models/resnet152.py',
    '../_base_/datasets/places_lt_decoupling.py',
    '../_base_/default_runtime.py',
]
# no training in this stage
train_dataloader = None
val_cfg = dict()
test_cfg = dict()
model = dict(head=dict(type='TauNormHead', tau=1.0, num_classes=365))
