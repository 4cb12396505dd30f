# Faster R-CNN R50-FPN (ImageNet torchvision init), LVIS v1 (1,203 classes), boxes only, multi-scale
# 1x (12 epochs, 8 GPUs x 2 images: mmdet's LVIS recipe), RANDOM (instance) sampling: the
# long-tailed baseline. mmdet's LVISV1Dataset + LVISMetric (AP, AP_r / AP_c / AP_f from the
# categories' 'frequency' of the LVIS file; needs `pip install lvis`), 300 boxes per image with
# score >= 1e-4 as LVIS evaluates. Data: data/lvis_v1/{annotations/lvis_v1_{train,val}.json,
# train2017, val2017}.
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py',
    'mmdet::_base_/datasets/lvis_v1_instance.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmlt', 'mmlt.det'], allow_failed_imports=False)

model = dict(
    roi_head=dict(bbox_head=dict(num_classes=1203)),
    test_cfg=dict(rcnn=dict(score_thr=0.0001, max_per_img=300)))  # LVIS allows up to 300

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomChoiceResize',
         scales=[(1333, 640), (1333, 672), (1333, 704), (1333, 736), (1333, 768), (1333, 800)],
         keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
# mmdet's LVIS base wraps the training set in ClassBalancedDataset (repeat-factor sampling);
# this baseline samples every image once an epoch
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='LVISV1Dataset',
        data_root='data/lvis_v1/',
        ann_file='annotations/lvis_v1_train.json',
        data_prefix=dict(img=''),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline,
        backend_args={{_base_.backend_args}}))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(metric='bbox')
test_evaluator = val_evaluator
