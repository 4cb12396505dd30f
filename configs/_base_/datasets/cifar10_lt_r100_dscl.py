# CIFAR-10-LT (IR 100) for DSCL + PBSD stage 1 at 32 px: SimCLR/MoCo-style CIFAR views (random
# resized crop, flip, colour jitter, grayscale; no blur at this size), L = 5 boxes per query view
# whose crops are resized to 16 px and each get their own flip / colour jitter / grayscale.
# `mocov2_train_pipeline` is the two-view pipeline for runs without PBSD.
_base_ = './cifar10_lt_r100_train.py'

data_preprocessor = dict(
    _delete_=True,
    type='PatchViewsDataPreprocessor',
    mean=[125.307, 122.961, 113.8575],
    std=[51.5865, 50.847, 51.255],
    to_rgb=True)

view_pipeline = [
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.2, 1.)),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='RandomApply',
        transforms=[
            dict(
                type='ColorJitter',
                brightness=0.4,
                contrast=0.4,
                saturation=0.4,
                hue=0.1)
        ],
        prob=0.8),
    dict(
        type='RandomGrayscale',
        prob=0.2,
        keep_channels=True,
        channel_weights=(0.114, 0.587, 0.2989)),
]
patch_pipeline = view_pipeline[1:]

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='PBSDMultiView',
        # crops cut after the geometric steps, before the colour steps (as the DSCL authors)
        query_transforms=view_pipeline[:2],
        query_color_transforms=view_pipeline[2:],
        patch_transforms=patch_pipeline,
        num_patches=5,
        patch_size=16,
        scale=(0.05, 0.6),
        ratio=(3. / 4., 4. / 3.)),
    dict(type='PackInputs', algorithm_keys=['patch_boxes']),
]
mocov2_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=256,
    drop_last=True,
    collate_fn=dict(type='default_collate'),
    dataset=dict(pipeline=train_pipeline))
