# Table 1 ablation of the DSCL paper, row "SCL", on CIFAR-10-LT (IR 100), ResNet-32: the supervised
# contrastive baseline (uniform weights over the own key and the same-class keys), no PBSD, so
# the two MoCo v2 views only. Everything else is dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100.py.
_base_ = './dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100.py'

model = dict(
    head=dict(loss=dict(_delete_=True, type='SCLLoss')),
    pbsd_head=None,
    roi_neck=None)
data_preprocessor = dict(views={{_base_.mocov2_views}})  # the two MoCo v2 views, no crops
