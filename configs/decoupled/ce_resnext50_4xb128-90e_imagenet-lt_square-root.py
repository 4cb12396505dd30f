# ce_resnext50_4xb128-90e_imagenet-lt.py with square-root sampling (p_j ~ sqrt(n_j); Kang et al.,
# config/ImageNet_LT/feat_squareroot.yaml), an epoch of len(dataset) samples.
_base_ = './ce_resnext50_4xb128-90e_imagenet-lt.py'

train_dataloader = dict(sampler=dict(type='SquareRootSampler'))
