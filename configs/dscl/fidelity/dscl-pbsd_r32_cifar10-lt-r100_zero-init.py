# Fidelity A/B (docs/results.md): DSCL + PBSD on CIFAR-10-LT with zero_init_residual=True, as the
# authors' ResNet-50 (every residual block starts as its shortcut). The main config: False.
_base_ = './dscl-pbsd_r32_cifar10-lt-r100_ab-baseline.py'

model = dict(backbone=dict(zero_init_residual=True))
