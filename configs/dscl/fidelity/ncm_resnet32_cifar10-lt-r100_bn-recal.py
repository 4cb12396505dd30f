# Fidelity A/B (docs/results.md): NCM on a stage-1 backbone whose BatchNorm statistics are first
# re-estimated on the training images it averages (BNRecalibrationHook before ClassMeanHook).
_base_ = '../../decoupled/ncm_resnet32_cifar10-lt-r100.py'

custom_hooks = [
    dict(type='SamplerStateHook'),
    dict(type='RandomStateHook'),
    dict(type='LongTailPlotHook'),
    dict(
        type='BNRecalibrationHook',
        dataloader={{_base_.train_features_dataloader}},
        before_train=False,
        before_test=True),
    dict(type='ClassMeanHook', dataloader={{_base_.train_features_dataloader}}),
]
