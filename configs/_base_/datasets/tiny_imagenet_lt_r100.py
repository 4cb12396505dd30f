# Tiny-ImageNet-LT (tiny_imagenet_lt_r100_train.py) with its test split.
_base_ = './tiny_imagenet_lt_r100_train.py'

test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackInputs'),
]

val_dataloader = dict(
    batch_size=256,
    num_workers=4,
    persistent_workers=True,
    dataset=dict(
        type={{_base_.dataset_type}},
        data_root={{_base_.data_root}},
        split='test',
        imb_ratio={{_base_.imb_ratio}},
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='LongTailAccuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
