# Stage 2, tau-normalisation (Kang et al.) of the iNaturalist stage-1 ResNet-50: no training.
# iNaturalist 2018 has no test split apart from iNaturalist18_val, so the tau picked on it is
# also reported on it (as in the paper):
#   python tools/tau_norm_sweep.py THIS_CONFIG work_dirs/ce_resnet50_4xb128-90e_inat18/epoch_90.pth
_base_ = [
    'mmpretrain::_base_/models/resnet50.py',
    '../_base_/datasets/inat18_decoupling.py',
    '../_base_/default_runtime.py',
]
# no training in this stage
train_dataloader = None
val_cfg = dict()
test_cfg = dict()
model = dict(head=dict(type='TauNormHead', tau=1.0, num_classes=8142))
