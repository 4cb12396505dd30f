# CIFAR-10-LT, imbalance ratio 100 (LDAM-DRW construction, 12,406 training images, 5000 -> 50),
# read from the JPEG folder release `data/CIFAR-10-images/{train,test}/<class>/*.jpg`.
# For the pickle release (`data/cifar10/cifar-10-batches-py`), set data_root='data/cifar10', drop
# LoadImageFromFile from the pipelines and set data_preprocessor.to_rgb=False.
# The training split only: stage-1 representation learning has nothing to evaluate (and no
# test_dataloader key, so mmpretrain's get_model builds it); cifar10_lt_r100.py adds the
# validation and test splits.
dataset_type = 'CIFAR10LT'
data_root = 'data/CIFAR-10-images'
imb_ratio = 100

data_preprocessor = dict(
    num_classes=10,
    mean=[125.307, 122.961, 113.8575],
    std=[51.5865, 50.847, 51.255],
    to_rgb=True)  # LoadImageFromFile reads BGR

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=128,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        imb_ratio=imb_ratio,
        pipeline=train_pipeline),
    sampler=dict(type='InstanceBalancedSampler', shuffle=True),
)
