# Table 1 of the DSCL paper, row "SCL + PBSD" (56.3 top-1 on ImageNet-LT): the supervised
# contrastive baseline plus patch-based self distillation.
_base_ = '../dscl_r50_imagenet-lt.py'

model = dict(head=dict(loss=dict(_delete_=True, type='SCLLoss')))
