# Faster R-CNN R18-FPN on Tiny-ImageNet-LT detection (IR 100), random init, with MMPretrain's
# ResNet-18 ImageNet stem (mmlt.det.ImageNetStemResNet) on the native 64 px images; the model
# changes of _base_/models/faster-rcnn_r18-64px_fpn_delta.py on the CIFAR-stem config.
# Its stage-1 classifiers: the Tiny-ImageNet ResNet-18 configs with model.backbone.type='ResNet'.
_base_ = [
    './faster-rcnn_r18-cifar_fpn_scratch_cpu-4e_tiny-imagenet-lt-r100.py',
    './_base_/models/faster-rcnn_r18-64px_fpn_delta.py',
]

model = {{_base_.r18_64px_model}}
