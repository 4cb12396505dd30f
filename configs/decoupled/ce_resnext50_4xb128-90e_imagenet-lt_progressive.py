# ce_resnext50_4xb128-90e_imagenet-lt.py with progressively-balanced sampling (Kang et al.,
# Eq. 2; config/ImageNet_LT/feat_shift.yaml), an epoch of len(dataset) samples. Their code moves
# from instance- to class-balanced with linspace(0, 1, 90) over the 90 epochs, i.e. t / 89: the
# last epoch is fully class-balanced, hence total_epochs=89 (t / T with T = 89).
_base_ = './ce_resnext50_4xb128-90e_imagenet-lt.py'

train_dataloader = dict(
    sampler=dict(type='ProgressiveBalancedSampler', total_epochs=89))
