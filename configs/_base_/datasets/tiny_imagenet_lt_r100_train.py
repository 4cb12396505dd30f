# Tiny-ImageNet-LT, imbalance ratio 100 (LDAM-DRW construction over the 200 wnids, 500 -> 5),
# from `data/tiny-imagenet-200`; the official val split (50 per class) is the test split.
# The training split only: stage-1 representation learning has nothing to evaluate (and no
# test_dataloader key, so mmpretrain's get_model builds it); tiny_imagenet_lt_r100.py adds the
# test split.
dataset_type = 'TinyImageNetLT'
data_root = 'data/tiny-imagenet-200'
imb_ratio = 100

data_preprocessor = dict(
    num_classes=200,
    mean=[122.46, 114.26, 101.37],
    std=[70.49, 68.56, 71.81],
    to_rgb=True)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.35, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=128,
    num_workers=4,
    persistent_workers=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        imb_ratio=imb_ratio,
        pipeline=train_pipeline),
    sampler=dict(type='InstanceBalancedSampler', shuffle=True),
)
