# Stage 2 of a decoupled RetinaNet (the detection analogue of Kang et al.'s cRT): the stage-1
# detector (retinanet_r18-cifar_fpn_ce-stage1_cpu-4e_tiny-imagenet-lt-r100.py, through load_from)
# with everything frozen but the final box classifier bbox_head.retina_cls
# (mmlt.det.FreezeAllButHook: requires_grad off elsewhere, BatchNorm / Dropout kept in eval mode),
# which is re-initialised (mmdet's own init of retina_cls: the focal-loss prior 0.01) and re-trained
# with repeat-factor sampling (LVIS's RFS, mmengine's ClassBalancedDataset): category repeat r_c =
# max(1, sqrt(t / f_c)), f_c the fraction of training images holding c, an image repeated ceil(max_c
# r_c) times. t = 0.01 here: at IR 100 the 5-image classes repeat 7x (35 samples), 163 of the 200
# classes are repeated, the epoch grows from 21,549 to 33,958 images (LVIS's t = 1e-3 would leave
# Tiny-ImageNet-LT almost as it is: 22,305).
# Any stage-1 detector of the same model works: --cfg-options load_from=work_dirs/<run>/epoch_4.pth
# Schedule: CPU, 2 cores: 2 epochs of the repeated set at batch 16 (4,246 iterations; the backbone
# runs without gradient), SGD lr 0.01, momentum 0.9, weight decay 1e-4, cosine to 0.
# The repeat-factor sampling comes from the stage-1 config that trains with it from the start.
_base_ = './retinanet_r18-cifar_fpn_ce-stage1_rfs_cpu-4e_tiny-imagenet-lt-r100.py'

load_from = 'work_dirs/retinanet_r18-cifar_fpn_ce-stage1_cpu-4e_tiny-imagenet-lt-r100/epoch_4.pth'
model = dict(backbone=dict(init_cfg=None))  # load_from supplies every weight

custom_hooks = [
    dict(type='FreezeAllButHook', trainable=['bbox_head.retina_cls'], norm_eval=True,
         reinit_cfg=dict(type='Normal', layer='Conv2d', std=0.01, bias_prob=0.01)),
]
# the parameters are frozen after DDP wraps the model (distributed runs)
find_unused_parameters = True

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=2, val_interval=2)
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=2, eta_min=0, by_epoch=True, begin=0, end=2,
         convert_to_iter_based=True),
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001))
