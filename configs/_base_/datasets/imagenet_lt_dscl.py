# ImageNet-LT (Liu et al., CVPR 2019; 115,846 images, 1000 classes) for DSCL + PBSD stage 1:
# MoCo v2 augmentations for the query and key views (224 px), L = 5 boxes per query view (area
# (0.05, 0.6), ratio (3/4, 4/3)) whose crops are resized to 64 px and each get their own flip /
# colour jitter / grayscale / blur. Images under data/imagenet/train/..., the list at
# data/ImageNet_LT/ImageNet_LT_train.txt. 128 per GPU (x 2 GPUs = 256), instance-balanced.
# `mocov2_train_pipeline` is the two-view pipeline for runs without PBSD.
dataset_type = 'ImageNetLT'
data_root = 'data'
data_prefix = dict(img_path='imagenet')
train_ann_file = 'ImageNet_LT/ImageNet_LT_train.txt'

data_preprocessor = dict(
    type='PatchViewsDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

# MoCo v2 (mmpretrain's imagenet_bs32_mocov2.py)
view_pipeline = [
    dict(
        type='RandomResizedCrop',
        scale=224,
        crop_ratio_range=(0.2, 1.),
        backend='pillow'),
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
    dict(
        type='GaussianBlur',
        magnitude_range=(0.1, 2.0),
        magnitude_std='inf',
        prob=0.5),
    dict(type='RandomFlip', prob=0.5),
]
# each resized patch crop: the same augmentations without the crop
patch_pipeline = view_pipeline[1:]

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='PBSDMultiView',
        # crops cut after the geometric steps, before the colour steps (as the DSCL authors)
        query_transforms=[view_pipeline[0], view_pipeline[-1]],
        query_color_transforms=view_pipeline[1:-1],
        patch_transforms=patch_pipeline,
        num_patches=5,
        patch_size=64,
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
    batch_size=128,
    num_workers=8,
    drop_last=True,
    persistent_workers=True,
    sampler=dict(type='InstanceBalancedSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file=train_ann_file,
        data_prefix=data_prefix,
        pipeline=train_pipeline))
