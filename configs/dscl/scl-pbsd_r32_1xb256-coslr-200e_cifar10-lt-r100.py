# Table 1 ablation of the DSCL paper, row "SCL + PBSD", on CIFAR-10-LT (IR 100), ResNet-32: the
# supervised contrastive baseline plus patch-based self distillation. Everything else is
# dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100.py.
_base_ = './dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100.py'

model = dict(head=dict(loss=dict(_delete_=True, type='SCLLoss')))
