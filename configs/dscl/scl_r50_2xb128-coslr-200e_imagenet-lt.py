# Table 1 of the DSCL paper, row "SCL" (51.2 top-1 on ImageNet-LT): the supervised contrastive
# baseline (uniform weights over the own key and the same-class keys), no PBSD.
_base_ = '../dscl_r50_imagenet-lt.py'

model = dict(
    head=dict(loss=dict(_delete_=True, type='SCLLoss')),
    pbsd_head=None,
    roi_neck=None)
train_dataloader = dict(dataset=dict(pipeline={{_base_.mocov2_train_pipeline}}))
