# Stage 2, NCM (Kang et al.) on the instance-balanced stage-1 ResNeXt-50: nearest class mean of
# the centred, L2-normalised features (cosine; model.head.distance='euclidean' for Euclidean),
# means over the ImageNet-LT training list with the test pipeline. No training:
#   python tools/test.py THIS_CONFIG work_dirs/ce_resnext50_4xb128-90e_imagenet-lt/epoch_90.pth
_base_ = [
    'mmpretrain::_base_/models/resnext50_32x4d.py',
    '../_base_/datasets/imagenet_lt_decoupling.py',
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
        num_classes=1000,
        in_channels=2048,
        distance='cosine',
        topk=(1, 5)))
# the training list with the test pipeline: the images whose features are averaged
train_features_dataloader = dict(
    batch_size={{_base_.val_dataloader.batch_size}},
    num_workers={{_base_.val_dataloader.num_workers}},
    dataset=dict(
        type={{_base_.dataset_type}},
        data_root={{_base_.data_root}},
        ann_file={{_base_.train_ann_file}},
        data_prefix={{_base_.data_prefix}},
        pipeline={{_base_.test_pipeline}}),
    sampler=dict(type='DefaultSampler', shuffle=False))
custom_hooks = [
    dict(type='SamplerStateHook'),
    dict(type='RandomStateHook'),
    dict(type='LongTailPlotHook'),
    dict(type='ClassMeanHook', dataloader=train_features_dataloader),
]
