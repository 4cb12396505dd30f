# CFRL classifier stage on ImageNet-LT: DSCL's stage-2 linear classifier (cRT-style,
# class-balanced, 40 epochs, lr 10, batch 2048, wd 0, x0.1 at 20 and 30; best epoch on
# ImageNet_LT_val) on the frozen backbone of the patch-level stage 1b.
#
#   tools/dist_train.sh configs/cfrl/cfrl_r50_linear-40e_imagenet-lt.py 2
_base_ = '../dscl/dscl_r50_linear-40e_imagenet-lt.py'
stage1_checkpoint = 'work_dirs/cfrl-patch_r50_2xb128-coslr-100e_imagenet-lt/epoch_100.pth'

model = dict(init_cfg=dict(checkpoint=stage1_checkpoint))
