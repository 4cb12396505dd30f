# DSCL stage 1 (Xuan & Zhang, AAAI 2024; official code): SGD momentum 0.9, weight decay 5e-4
# (MoCo v2 uses 1e-4), lr 0.1 x batch / 256 (base 0.1 for 256), 10 linear warm-up epochs, then
# cosine to 0 at epoch 200. Stage 1 has no validation (no classifier).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=190,
        eta_min=0.,
        by_epoch=True,
        begin=10,
        end=200,
        convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=200)
auto_scale_lr = dict(base_batch_size=256)
