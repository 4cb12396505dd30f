# Stage-2 classifier re-training (Kang et al.'s reference: 10 epochs, lr 0.2 cosine, batch 512,
# wd 5e-4).
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=10, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=10, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=512)
