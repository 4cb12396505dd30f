# Stage 2, NCM (Kang et al.): nearest class mean of the centred, L2-normalised stage-1 features
# (cosine; set model.head.distance='euclidean' for the Euclidean variant). No training:
#   python tools/test.py THIS_CONFIG work_dirs/ce_resnet32_1xb128-200e_cifar10-lt-r100/epoch_200.pth
_base_ = [
    '../_base_/models/resnet32_cifar.py',
    '../_base_/datasets/cifar10_lt_r100.py',
    '../_base_/default_runtime.py',
]
# no training in this stage
train_dataloader = None
val_cfg = dict()
test_cfg = dict()
model = dict(
    head=dict(
        _delete_=True,
        type='NCMHead',
        num_classes=10,
        in_channels=64,
        distance='cosine',
        topk=(1, 5)))
# the training split with the test pipeline: the images whose features are averaged
train_features_dataloader = dict(
    batch_size={{_base_.val_dataloader.batch_size}},
    num_workers={{_base_.val_dataloader.num_workers}},
    dataset=dict(
        type={{_base_.dataset_type}},
        data_root={{_base_.data_root}},
        split='train',
        imb_ratio={{_base_.imb_ratio}},
        pipeline={{_base_.test_pipeline}}),
    sampler=dict(type='DefaultSampler', shuffle=False))
custom_hooks = [
    dict(type='SamplerStateHook'),
    dict(type='RandomStateHook'),
    dict(type='LongTailPlotHook'),
    dict(type='ClassMeanHook', dataloader=train_features_dataloader),
]
