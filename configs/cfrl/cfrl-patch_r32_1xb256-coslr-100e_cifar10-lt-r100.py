# CFRL (Song et al., MMAsia 2024) stage 1b, PATCH LEVEL, on CIFAR-10-LT (IR 100), continuing from
# the image-level checkpoint of cfrl-image_r32_1xb256-coslr-200e_cifar10-lt-r100.py (the whole
# model: encoders, EMA and queue). L = 5 boxes per query view and their crops (PBSDMultiView, as
# in PBSD); each crop embedding e_ij is pulled to its un-rotated counterpart (positive='roi': the
# RoI feature f_ij, detached; 'key': the image's key) and pushed from the queue AND from the
# embeddings of the same crop rotated by 90 / 180 / 270 degrees (one query-encoder batch with the
# crops): RotationContrastiveHead, tau = 0.2, weight 1.0. The label-free image-level InfoNCE is
# kept (head=None drops it). Config fields: model.rotations, model.positive,
# model.rotation_head.loss_weight / temperature, the number of patches
# (data_preprocessor.views.num_patches), model.pbsd_head (PBSD on the same
# crops), model.use_labels + head.loss.alpha (labels through DSCL, see cfrl-patch-dscl_*).
# Schedule: 100 epochs, lr 0.05 x batch / 256, 5 warm-up epochs then cosine. Next:
# cfrl_r32_crt-1xb512-10e_cifar10-lt-r100.py (classifier stage).
#
#   python tools/train.py configs/cfrl/cfrl-patch_r32_1xb256-coslr-100e_cifar10-lt-r100.py
_base_ = './cfrl-image_r32_1xb256-coslr-200e_cifar10-lt-r100.py'
stage1a_checkpoint = 'work_dirs/cfrl-image_r32_1xb256-coslr-200e_cifar10-lt-r100/epoch_200.pth'

model = dict(
    rotation_head=dict(
        type='RotationContrastiveHead',
        temperature=0.2,
        loss_weight=1.0,
        detach_positive=True),
    rotations=(90, 180, 270),
    positive='roi',
    init_cfg=dict(type='Pretrained', checkpoint=stage1a_checkpoint),
)
# the PBSD views: query + key + L boxes and crops of the query view
data_preprocessor = dict(views={{_base_.pbsd_views}})

optim_wrapper = dict(optimizer=dict(lr=0.05))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=95,
        eta_min=0.,
        by_epoch=True,
        begin=5,
        end=100,
        convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100)
