# DSCL + PBSD stage 1 on iNaturalist 2018 (8142 classes, 437,513 images) with a ResNet-50 from
# scratch (the paper reports 72.0 top-1 after stage 2, dscl_r50_linear-40e_inat18.py): the
# ImageNet-LT recipe on data/iNaturalist18/train_val2018/... with
# data/iNaturalist18/iNaturalist18_train.txt.
#
#   tools/dist_train.sh configs/dscl/dscl-pbsd_r50_2xb128-coslr-200e_inat18.py 2
_base_ = '../dscl_r50_imagenet-lt.py'

train_dataloader = dict(
    dataset=dict(
        type='INaturalist2018',
        ann_file='iNaturalist18/iNaturalist18_train.txt',
        data_prefix=dict(img_path='iNaturalist18')))
