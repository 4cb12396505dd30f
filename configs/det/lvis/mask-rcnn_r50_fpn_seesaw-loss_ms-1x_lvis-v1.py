# Mask R-CNN R50-FPN, LVIS v1, multi-scale 1x, random sampling, Seesaw loss (p 0.8, q 2.0) with
# the normalised-linear classifier: mmdet's seesaw_loss/mask-rcnn_r50_fpn_seesaw-loss_random-ms-2x
# recipe on the 1x schedule of the other LVIS configs here.
_base_ = './mask-rcnn_r50_fpn_ms-1x_lvis-v1.py'

model = dict(
    roi_head=dict(
        bbox_head=dict(
            cls_predictor_cfg=dict(type='NormedLinear', tempearture=20),  # mmdet's spelling
            loss_cls=dict(type='SeesawLoss', p=0.8, q=2.0, num_classes=1203, loss_weight=1.0))))
