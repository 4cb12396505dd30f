# Fidelity A/B (docs/results.md): cRT on a DSCL + PBSD backbone whose BatchNorm statistics are
# first re-estimated on the stage-2 images (BNRecalibrationHook; stage 1 left them about half
# patch-crop statistics). The authors' linear stage instead trains with BatchNorm in train mode;
# the main cRT config keeps the stage-1 statistics frozen.
_base_ = './dscl-pbsd_r32_crt_cifar10-lt-r100_ab-baseline.py'

custom_hooks = [
    dict(type='SamplerStateHook'),
    dict(type='RandomStateHook'),
    dict(type='LongTailPlotHook'),
    dict(type='BNRecalibrationHook'),
]
