# Tiny-ImageNet-LT (IR 100) for DSCL + PBSD stage 1 at 64 px: MoCo v2 views without blur
# (random resized crop, flip, colour jitter, grayscale), L = 5 boxes per query view whose crops
# are resized to 32 px and each get their own flip / colour jitter / grayscale.
# `mocov2_train_pipeline` is the two-view pipeline for runs without PBSD.
_base_ = './tiny_imagenet_lt_r100_train.py'

data_preprocessor = dict(
    _delete_=True,
    type='PatchViewsDataPreprocessor',
    mean=[122.46, 114.26, 101.37],
    std=[70.49, 68.56, 71.81],
    to_rgb=True)

view_pipeline = [
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.2, 1.)),
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
        patch_size=32,
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
