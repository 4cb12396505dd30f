# Stage 2, tau-normalisation (Kang et al.): w_j / ||w_j||^tau, no training. tau is chosen on the
# validation split (100 images per class held out from the test set) and reported on the rest:
#   python tools/tau_norm_sweep.py THIS_CONFIG work_dirs/ce_resnet32_1xb128-200e_cifar10-lt-r100/epoch_200.pth
# which writes the config with the chosen tau; test with it:
#   python tools/test.py work_dirs/tau-norm_resnet32_cifar10-lt-r100/tau_norm_best.py work_dirs/ce_resnet32_1xb128-200e_cifar10-lt-r100/epoch_200.pth
_base_ = [
    '../_base_/models/resnet32_cifar.py',
    '../_base_/datasets/cifar10_lt_r100.py',
    '../_base_/default_runtime.py',
]
# no training in this stage
train_dataloader = None
val_cfg = dict()
test_cfg = dict()
model = dict(head=dict(type='TauNormHead', tau=1.0))
