# Mask R-CNN R50-FPN, LVIS v1, multi-scale 1x with repeat-factor sampling (ClassBalancedDataset,
# oversample_thr 1e-3): mmdet's lvis/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py as it is.
_base_ = 'mmdet::lvis/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py'
custom_imports = dict(imports=['mmlt', 'mmlt.det'], allow_failed_imports=False)
