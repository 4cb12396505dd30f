# DSCL stage 2 on iNaturalist 2018: the ImageNet-LT linear stage (frozen backbone, N(0, 0.01)
# linear classifier, class-balanced sampling, 40 epochs, batch 2048, wd 0, x0.1 at 20 and 30)
# with lr 30 (official code); iNaturalist18_val (3 per class) is both val and test split.
_base_ = './dscl_r50_linear-40e_imagenet-lt.py'
stage1_checkpoint = 'work_dirs/dscl-pbsd_r50_2xb128-coslr-200e_inat18/epoch_200.pth'
train_ann_file = 'iNaturalist18/iNaturalist18_train.txt'
data_prefix = dict(img_path='iNaturalist18')

data_preprocessor = dict(num_classes=8142)
model = dict(
    head=dict(num_classes=8142),
    init_cfg=dict(checkpoint=stage1_checkpoint))
optim_wrapper = dict(optimizer=dict(lr=30.))

train_dataloader = dict(
    dataset=dict(
        type='INaturalist2018',
        ann_file=train_ann_file,
        data_prefix=data_prefix))
val_dataloader = dict(
    dataset=dict(
        type='INaturalist2018',
        ann_file='iNaturalist18/iNaturalist18_val.txt',
        train_ann_file=train_ann_file,
        data_prefix=data_prefix))
test_dataloader = val_dataloader
