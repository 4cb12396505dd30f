# Table 1 ablation of the DSCL paper, row "DSCL", on CIFAR-10-LT (IR 100), ResNet-32: L_dscl alone
# (alpha = 0.1), no patch-based self distillation, so the two MoCo v2 views only. Everything
# else is dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100.py.
_base_ = './dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100.py'

model = dict(pbsd_head=None, roi_neck=None)
data_preprocessor = dict(views={{_base_.mocov2_views}})  # the two MoCo v2 views, no crops
