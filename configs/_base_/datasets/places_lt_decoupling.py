# Places-LT (Liu et al., CVPR 2019; 62,500 training images, 4980 -> 5 per class, 365 classes)
# with Kang et al.'s ImageNet-LT pipelines (imagenet_lt_decoupling.py) and their Places-LT batch
# of 256 (4 GPUs x 64). Images under data/places365/..., the lists in data/Places_LT/;
# validation on Places_LT_val (20 per class), test on Places_LT_test (100 per class).
_base_ = './imagenet_lt_decoupling.py'
dataset_type = 'PlacesLT'
data_prefix = dict(img_path='places365')
train_ann_file = 'Places_LT/Places_LT_train.txt'

data_preprocessor = dict(num_classes=365)
train_dataloader = dict(
    batch_size=64,
    dataset=dict(
        type=dataset_type, ann_file=train_ann_file, data_prefix=data_prefix))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file='Places_LT/Places_LT_val.txt',
        train_ann_file=train_ann_file,
        data_prefix=data_prefix))
test_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file='Places_LT/Places_LT_test.txt',
        train_ann_file=train_ann_file,
        data_prefix=data_prefix))
