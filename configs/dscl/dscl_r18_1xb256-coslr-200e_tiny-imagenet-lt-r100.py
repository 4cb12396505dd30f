# Table 1 ablation of the DSCL paper, row "DSCL", on Tiny-ImageNet-LT (IR 100), ResNet-18: L_dscl alone
# (alpha = 0.1), no patch-based self distillation, so the two MoCo v2 views only. Everything
# else is dscl-pbsd_r18_1xb256-coslr-200e_tiny-imagenet-lt-r100.py.
_base_ = './dscl-pbsd_r18_1xb256-coslr-200e_tiny-imagenet-lt-r100.py'

model = dict(pbsd_head=None, roi_neck=None)
train_dataloader = dict(dataset=dict(pipeline={{_base_.mocov2_train_pipeline}}))
