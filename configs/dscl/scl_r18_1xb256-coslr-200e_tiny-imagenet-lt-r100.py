# Table 1 ablation of the DSCL paper, row "SCL", on Tiny-ImageNet-LT (IR 100), ResNet-18: the supervised
# contrastive baseline (uniform weights over the own key and the same-class keys), no PBSD, so
# the two MoCo v2 views only. Everything else is dscl-pbsd_r18_1xb256-coslr-200e_tiny-imagenet-lt-r100.py.
_base_ = './dscl-pbsd_r18_1xb256-coslr-200e_tiny-imagenet-lt-r100.py'

model = dict(
    head=dict(loss=dict(_delete_=True, type='SCLLoss')),
    pbsd_head=None,
    roi_neck=None)
train_dataloader = dict(dataset=dict(pipeline={{_base_.mocov2_train_pipeline}}))
