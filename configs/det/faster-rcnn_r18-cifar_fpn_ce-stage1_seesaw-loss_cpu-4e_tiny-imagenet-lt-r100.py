# Faster R-CNN R18-FPN on Tiny-ImageNet-LT detection (IR 100) from an mmlt CE stage 1, with mmdet's
# Seesaw loss (Wang et al., CVPR 2021: p = 0.8 mitigation, q = 2.0 compensation) and its
# normalised-linear classifier (temperature 20), as configs/det/lvis/*_seesaw-loss_*.
_base_ = './faster-rcnn_r18-cifar_fpn_ce-stage1_cpu-4e_tiny-imagenet-lt-r100.py'

model = dict(
    roi_head=dict(
        bbox_head=dict(
            cls_predictor_cfg=dict(type='NormedLinear', tempearture=20),  # mmdet's spelling
            loss_cls=dict(type='SeesawLoss', p=0.8, q=2.0, num_classes=200, loss_weight=1.0))))
