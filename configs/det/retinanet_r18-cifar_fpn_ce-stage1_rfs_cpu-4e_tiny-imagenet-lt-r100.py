# RetinaNet R18-FPN on Tiny-ImageNet-LT detection (IR 100) from an mmlt CE stage 1, trained with
# LVIS's repeat-factor sampling from the start (mmengine's ClassBalancedDataset, t = 0.01 as the
# decoupled classifier stage retinanet_*_crt-cls_rfs-2e_*, which inherits it: the 5-image classes
# 7x, 21,549 -> 33,958 images an epoch, so an epoch costs about 1.6x one of the plain config).
_base_ = './retinanet_r18-cifar_fpn_ce-stage1_cpu-4e_tiny-imagenet-lt-r100.py'

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ClassBalancedDataset',
        oversample_thr=0.01,
        dataset={{_base_.train_dataloader.dataset}}))
