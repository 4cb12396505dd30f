# Stage 2, LWS (Kang et al.): the whole stage-1 model frozen; one learnable scale per class
# (initialised to 1) trained with class-balanced sampling.
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
    head=dict(type='LWSHead'),
    init_cfg=dict(type='Pretrained', checkpoint=stage1_checkpoint))
train_dataloader = dict(
    batch_size=512, sampler=dict(type='ClassBalancedSampler'))
optim_wrapper = dict(optimizer=dict(weight_decay=0.))
