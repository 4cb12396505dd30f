# iNaturalist 2018 (8142 classes, 437,513 training images, 1000 -> 2 per class) as Kang et al.
# train on it: their ImageNet-LT pipelines (imagenet_lt_decoupling.py) without the colour
# jitter, and iNaturalist's own mean / std ([0.466, 0.471, 0.380] / [0.195, 0.194, 0.192]).
# Images under data/iNaturalist18/train_val2018/..., the lists in data/iNaturalist18/;
# iNaturalist18_val (3 per class) is both the validation and the test split.
_base_ = './imagenet_lt_decoupling.py'
dataset_type = 'INaturalist2018'
data_prefix = dict(img_path='iNaturalist18')
train_ann_file = 'iNaturalist18/iNaturalist18_train.txt'

data_preprocessor = dict(
    num_classes=8142,
    mean=[118.83, 120.105, 96.9],
    std=[49.725, 49.47, 48.96])
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file=train_ann_file,
        data_prefix=data_prefix,
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file='iNaturalist18/iNaturalist18_val.txt',
        train_ann_file=train_ann_file,
        data_prefix=data_prefix))
test_dataloader = val_dataloader
