# Fidelity A/B (docs/results.md): the cRT stage of the A/B arms, the main cRT config as it was when
# the A/B ran, pinned: CIFAR's random crop with 4 px padding and flip, the stage-1 BatchNorm
# statistics kept (no re-estimation), lr 0.02.
_base_ = '../dscl-pbsd_r32_crt-1xb512-10e_cifar10-lt-r100.py'

data_preprocessor = dict(augments=[
    dict(type='RandomCrop', size=(32, 32), padding=4),
    dict(type='RandomHorizontalFlip'),
])
custom_hooks = [
    dict(type='SamplerStateHook'),
    dict(type='RandomStateHook'),
    dict(type='LongTailPlotHook'),
]
optim_wrapper = dict(optimizer=dict(lr=0.02))
