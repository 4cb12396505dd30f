# Faster R-CNN R18-FPN (ImageNet stem, 64 px) on Tiny-ImageNet-LT detection (IR 100) from an mmlt
# stage-1 classifier trained with model.backbone.type='ResNet' (tools/benchmark/det_results.py
# run --stem imagenet trains them); mmlt.det.ImageNetStemResNet checks and loads its 'backbone.'
# weights (DSCL: the query encoder). Frozen stem and first stage, BatchNorm statistics frozen, as
# the CIFAR-stem faster-rcnn_r18-cifar_fpn_ce-stage1_*.
_base_ = './faster-rcnn_r18-64px_fpn_scratch_cpu-4e_tiny-imagenet-lt-r100.py'

stage1_checkpoint = 'work_dirs/ce_resnet18-imagenet-stem_tiny-imagenet-lt-r100/epoch_200.pth'
model = dict(
    backbone=dict(
        frozen_stages=1,
        norm_eval=True,
        init_cfg=dict(type='Pretrained', prefix='backbone.', checkpoint=stage1_checkpoint)))
