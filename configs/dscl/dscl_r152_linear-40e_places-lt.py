# DSCL stage 2 on Places-LT: the ImageNet-LT linear stage (frozen backbone, N(0, 0.01) linear
# classifier, class-balanced sampling, 40 epochs, batch 2048, wd 0, x0.1 at 20 and 30) on the
# stage-1 ResNet-152 with lr 2.5 (official code); val Places_LT_val (20 per class), test
# Places_LT_test (100 per class).
_base_ = './dscl_r50_linear-40e_imagenet-lt.py'
stage1_checkpoint = 'work_dirs/dscl-pbsd_r152_2xb128-coslr-30e_places-lt/epoch_30.pth'
train_ann_file = 'Places_LT/Places_LT_train.txt'
data_prefix = dict(img_path='places365')

data_preprocessor = dict(num_classes=365)
model = dict(
    backbone=dict(depth=152),
    head=dict(num_classes=365),
    init_cfg=dict(checkpoint=stage1_checkpoint))
optim_wrapper = dict(optimizer=dict(lr=2.5))

train_dataloader = dict(
    dataset=dict(
        type='PlacesLT', ann_file=train_ann_file, data_prefix=data_prefix))
val_dataloader = dict(
    dataset=dict(
        type='PlacesLT',
        ann_file='Places_LT/Places_LT_val.txt',
        train_ann_file=train_ann_file,
        data_prefix=data_prefix))
test_dataloader = dict(
    dataset=dict(
        type='PlacesLT',
        ann_file='Places_LT/Places_LT_test.txt',
        train_ann_file=train_ann_file,
        data_prefix=data_prefix))
