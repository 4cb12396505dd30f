# Table 1 ablation of the DSCL paper, row "SCL + PBSD", on Tiny-ImageNet-LT (IR 100), ResNet-18: the
# supervised contrastive baseline plus patch-based self distillation. Everything else is
# dscl-pbsd_r18_1xb256-coslr-200e_tiny-imagenet-lt-r100.py.
_base_ = './dscl-pbsd_r18_1xb256-coslr-200e_tiny-imagenet-lt-r100.py'

model = dict(head=dict(loss=dict(_delete_=True, type='SCLLoss')))
