# ce_resnext50_4xb128-90e_imagenet-lt.py with Kang et al.'s class-aware sampling
# (config/ImageNet_LT/feat_balance.yaml): 4 consecutive images per class visit, an epoch of
# 1280 x 1000 samples (11x the instance-balanced epoch: 90 such epochs are ~1000 of
# ImageNet-LT's).
_base_ = './ce_resnext50_4xb128-90e_imagenet-lt.py'

train_dataloader = dict(sampler=dict(type='ClassAwareSampler', num_samples_cls=4))
