# As faster-rcnn_r50_fpn_ms-1x_lvis-v1.py (random sampling) with mmdet's Seesaw loss (Wang et al.,
# CVPR 2021: p = 0.8 mitigation, q = 2.0 compensation) and its normalised-linear classifier
# (temperature 20), mmdet's seesaw_loss/*_random-ms-* settings on Faster R-CNN.
_base_ = './faster-rcnn_r50_fpn_ms-1x_lvis-v1.py'

model = dict(
    roi_head=dict(
        bbox_head=dict(
            cls_predictor_cfg=dict(type='NormedLinear', tempearture=20),  # mmdet's spelling
            loss_cls=dict(type='SeesawLoss', p=0.8, q=2.0, num_classes=1203, loss_weight=1.0))))
