# Table 1 of the DSCL paper, row "DSCL" (52.6 top-1 on ImageNet-LT): L_dscl alone (alpha = 0.1),
# no patch-based self distillation, so the two MoCo v2 views only.
_base_ = '../dscl_r50_imagenet-lt.py'

model = dict(pbsd_head=None, roi_neck=None)
train_dataloader = dict(dataset=dict(pipeline={{_base_.mocov2_train_pipeline}}))
