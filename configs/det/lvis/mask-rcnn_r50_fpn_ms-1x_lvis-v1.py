# Mask R-CNN R50-FPN, LVIS v1, multi-scale 1x, RANDOM (instance) sampling: mmdet's
# lvis/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py without its repeat-factor sampling.
# LVISMetric on boxes and masks (AP_r / AP_c / AP_f each).
_base_ = 'mmdet::lvis/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py'
custom_imports = dict(imports=['mmlt', 'mmlt.det'], allow_failed_imports=False)

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='LVISV1Dataset',
        data_root='data/lvis_v1/',
        ann_file='annotations/lvis_v1_train.json',
        data_prefix=dict(img=''),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline={{_base_.train_pipeline}},
        backend_args={{_base_.backend_args}}))
