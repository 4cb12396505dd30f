# CFRL classifier stage on cifar10-lt-r100: cRT (Kang et al.) on the frozen backbone of the
# patch-level stage 1b (BatchNorm in eval mode; features = backbone + global average pooling): a
# re-initialised linear classifier (N(0, 0.01)), class-balanced sampling, 10 epochs, cosine, batch
# 512, wd 5e-4, but lr 0.02 instead of the CE recipe's 0.2: the contrastive backbone's pooled
# features are not normalised (norms ~5 and a large common mean) and lr 0.2 diverged in short runs
# (untuned free choice; sweep it on a validation split). Only the `backbone.` keys of the stage-1b
# checkpoint are loaded. Other classifiers on the same backbone:
# cfrl_r32_linear-1xb512-10e_cifar10-lt-r100.py (instance-balanced linear probe, then LWS /
# tau-norm on it) and NCM (see docs/cfrl.md).
#
#   python tools/train.py configs/cfrl/cfrl_r32_crt-1xb512-10e_cifar10-lt-r100.py
_base_ = '../decoupled/crt_resnet32_1xb512-10e_cifar10-lt-r100.py'
stage1_checkpoint = 'work_dirs/cfrl-patch_r32_1xb256-coslr-100e_cifar10-lt-r100/epoch_100.pth'

model = dict(backbone=dict(init_cfg=dict(checkpoint=stage1_checkpoint)))
optim_wrapper = dict(optimizer=dict(lr=0.02))
