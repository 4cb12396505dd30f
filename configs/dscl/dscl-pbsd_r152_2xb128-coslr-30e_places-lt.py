# DSCL + PBSD stage 1 on Places-LT (365 classes, 62,500 images) as in the paper (42.4 top-1
# after stage 2, dscl_r152_linear-40e_places-lt.py): a ResNet-152 initialised from MMPretrain's
# ImageNet-1k model (resnet152_8xb32_in1k) with only its last block fine-tuned
# (frozen_stages=3), 30 epochs (1 warm-up epoch, then cosine). Other settings as on ImageNet-LT.
# Images under data/places365/train/<class>/..., the list at data/Places_LT/Places_LT_train.txt.
#
#   tools/dist_train.sh configs/dscl/dscl-pbsd_r152_2xb128-coslr-30e_places-lt.py 2
_base_ = '../dscl_r50_imagenet-lt.py'
in1k_checkpoint = ('https://download.openmmlab.com/mmclassification/v0/resnet/'
                   'resnet152_8xb32_in1k_20210901-4d7582fa.pth')

model = dict(
    backbone=dict(
        depth=152,
        frozen_stages=3,
        init_cfg=dict(
            type='Pretrained', checkpoint=in1k_checkpoint,
            prefix='backbone.')))

train_dataloader = dict(
    dataset=dict(
        type='PlacesLT',
        ann_file='Places_LT/Places_LT_train.txt',
        data_prefix=dict(img_path='places365')))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=29,
        eta_min=0.,
        by_epoch=True,
        begin=1,
        end=30,
        convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=30)
default_hooks = dict(checkpoint=dict(interval=5))
