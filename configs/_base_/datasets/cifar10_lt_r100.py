# CIFAR-10-LT (cifar10_lt_r100_train.py) with its validation and test splits.
_base_ = './cifar10_lt_r100_train.py'

test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackInputs'),
]

# Validation (model selection, learning rates, tau) uses 100 images per class held out of the
# balanced test set; the test split is the other 900 per class, never used to choose anything.
val_per_class = 100
val_dataloader = dict(
    batch_size=256,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(
        type={{_base_.dataset_type}},
        data_root={{_base_.data_root}},
        split='val',
        val_per_class=val_per_class,
        imb_ratio={{_base_.imb_ratio}},
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='LongTailAccuracy', topk=(1, 5))
test_dataloader = dict(val_dataloader, dataset=dict(val_dataloader['dataset'], split='test'))
test_evaluator = val_evaluator
