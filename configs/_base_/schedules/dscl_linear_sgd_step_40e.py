# DSCL stage 2 (official code): a linear classifier on the frozen backbone, SGD momentum 0.9,
# lr 10 for batch 2048 (iNaturalist 2018: 30, Places-LT: 2.5), no weight decay, x0.1 at epochs 20
# and 30, 40 epochs. The checkpoint to report is picked on the validation split.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=10., momentum=0.9, weight_decay=0.))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[20, 30], gamma=0.1),
]
train_cfg = dict(by_epoch=True, max_epochs=40, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=2048)
