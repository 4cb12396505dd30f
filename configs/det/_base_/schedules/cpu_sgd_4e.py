# CPU schedule for 2 cores: 4 epochs of SGD at batch 16 (1,347 iterations an epoch on the 21,549
# Tiny-ImageNet-LT images, 5,388 in all; mmdet's 1x is 12 epochs), lr 0.02 (mmdet's for batch 16),
# momentum 0.9, weight decay 1e-4, linear warm-up over 500 iterations, lr x 0.1 after epoch 3.
# Measured on a shared 2-core CPU (torch 2.14, 2 threads): about 11 s an iteration for Faster R-CNN
# R18-CIFAR-FPN (16-17 h for the 4 epochs) and 15 s for RetinaNet; the val set (10,000 images,
# once at the end) about 35 min.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=4, val_interval=4)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=4, by_epoch=True, milestones=[3], gamma=0.1),
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001))
auto_scale_lr = dict(enable=False, base_batch_size=16)

