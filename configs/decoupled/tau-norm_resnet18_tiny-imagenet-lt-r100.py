# Stage 2, tau-normalisation (Kang et al.): w_j / ||w_j||^tau, no training. tau is chosen on a
# validation split held out from the test set (10 images per class) and reported on the rest:
#   python tools/tau_norm_sweep.py THIS_CONFIG work_dirs/ce_resnet18_1xb128-200e_tiny-imagenet-lt-r100/epoch_200.pth
# then test with the chosen tau:
#   python tools/test.py THIS_CONFIG work_dirs/ce_resnet18_1xb128-200e_tiny-imagenet-lt-r100/epoch_200.pth --cfg-options model.head.tau=TAU
_base_ = [
    '../_base_/models/resnet18_tiny_imagenet.py',
    '../_base_/datasets/tiny_imagenet_lt_r100.py',
    '../_base_/default_runtime.py',
]
# no training in this stage
train_dataloader = None
val_cfg = dict()
test_cfg = dict()
model = dict(head=dict(type='TauNormHead', tau=1.0))
val_dataloader = dict(dataset=dict(split='val', val_per_class=10))
test_dataloader = dict(dataset=dict(split='test', val_per_class=10))
