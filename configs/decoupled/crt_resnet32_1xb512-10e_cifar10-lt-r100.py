# Stage 2, cRT (Kang et al.): the stage-1 backbone frozen (BatchNorm in eval mode), a re-initialised
# linear classifier (N(0, 0.01)) trained with class-balanced sampling.
_base_ = [
    '../_base_/models/resnet32_cifar.py',
    '../_base_/datasets/cifar10_lt_r100_batchaug.py',
    '../_base_/schedules/classifier_sgd_cos_10e.py',
    '../_base_/default_runtime.py',
]
stage1_checkpoint = 'work_dirs/ce_resnet32_1xb128-200e_cifar10-lt-r100/epoch_200.pth'

model = dict(
    type='DecoupledClassifier',
    freeze=('backbone', 'neck'),
    backbone=dict(
        init_cfg=dict(
            type='Pretrained', checkpoint=stage1_checkpoint,
            prefix='backbone.')),
    head=dict(init_cfg=dict(type='Normal', layer='Linear', std=0.01)))
train_dataloader = dict(
    batch_size=512, sampler=dict(type='ClassBalancedSampler'))
