# ImageNet-LT (Liu et al., CVPR 2019; 115,846 training images, 1280 -> 5 per class, 1000 classes)
# as Kang et al. (ICLR 2020) train on it: RandomResizedCrop 224, horizontal flip, colour jitter
# (brightness / contrast / saturation 0.4), ImageNet mean / std; evaluation resizes the short
# edge to 256 and centre-crops 224. 128 per GPU (x 4 GPUs = 512), instance-balanced sampling.
# Images under data/imagenet/train/..., the lists in data/ImageNet_LT/; validation on
# ImageNet_LT_val (20 per class), test on ImageNet_LT_test (50 per class), Many / Medium / Few
# counted from the training list.
dataset_type = 'ImageNetLT'
data_root = 'data'
data_prefix = dict(img_path='imagenet')
train_ann_file = 'ImageNet_LT/ImageNet_LT_train.txt'

data_preprocessor = dict(
    num_classes=1000,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='InstanceBalancedSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file=train_ann_file,
        data_prefix=data_prefix,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='ImageNet_LT/ImageNet_LT_val.txt',
        train_ann_file=train_ann_file,
        data_prefix=data_prefix,
        test_mode=True,
        pipeline=test_pipeline))
val_evaluator = dict(type='LongTailAccuracy', topk=(1, 5))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], ann_file='ImageNet_LT/ImageNet_LT_test.txt'))
test_evaluator = val_evaluator
