# Stage 2 of a decoupled Faster R-CNN on LVIS v1 (the detection analogue of Kang et al.'s cRT):
# the random-sampling stage 1 (faster-rcnn_r50_fpn_ms-1x_lvis-v1.py, through load_from) frozen
# except roi_head.bbox_head.fc_cls (mmlt.det.FreezeAllButHook; BatchNorm / Dropout in eval mode),
# which is re-initialised (N(0, 0.01), mmdet's init) and re-trained with repeat-factor sampling
# (ClassBalancedDataset, t = 1e-3) for 2 epochs, lr 0.02 (8 GPUs x 2 images) cosine to 0.
_base_ = './faster-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py'

load_from = 'work_dirs/faster-rcnn_r50_fpn_ms-1x_lvis-v1/epoch_12.pth'
model = dict(backbone=dict(init_cfg=None))  # load_from supplies every weight
custom_hooks = [
    dict(type='FreezeAllButHook', trainable=['roi_head.bbox_head.fc_cls'], norm_eval=True,
         reinit_cfg=dict(type='Normal', layer='Linear', std=0.01, bias=0)),
]
find_unused_parameters = True  # parameters are frozen after DDP wraps the model

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=2, val_interval=2)
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=2, eta_min=0, by_epoch=True, begin=0, end=2,
         convert_to_iter_based=True),
]
