# Tiny-ImageNet-LT detection (IR 100; mmlt.det.TinyImageNetLTDet): the 21,549 long-tailed training
# images with their one real box each, evaluated on the official val set (10,000 images, 50 per
# class) with LongTailCocoMetric (box AP, AP_r / AP_c / AP_f from the training counts, a per-class
# CSV and plot). Images stay at their native 64x64 (Resize to 64 is the identity but records
# scale_factor); horizontal flip is the only augmentation, as in the stage-1 classifiers.
# The annotation files are built on first use (or ahead: tools/det/make_tiny_imagenet_lt_det.py).
custom_imports = dict(imports=['mmlt', 'mmlt.det'], allow_failed_imports=False)

dataset_type = 'TinyImageNetLTDet'
data_root = 'data/tiny-imagenet-200/'
imb_ratio = 100
img_scale = (64, 64)
backend_args = None

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]

train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        imb_ratio=imb_ratio,
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        imb_ratio=imb_ratio,
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader

val_evaluator = dict(
    type='LongTailCocoMetric',
    ann_file=data_root + 'annotations/tiny-imagenet-lt-r100_val.json',
    metric='bbox',
    backend_args=backend_args)
test_evaluator = val_evaluator
