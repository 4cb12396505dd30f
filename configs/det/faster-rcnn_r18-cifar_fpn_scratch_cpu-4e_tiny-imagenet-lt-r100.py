# Faster R-CNN R18-FPN on Tiny-ImageNet-LT detection (IR 100), init (a): random (from scratch).
# Backbone: mmlt.det.CifarStemResNet, MMPretrain's ResNet_CIFAR depth 18 (3x3 stride-1 stem, no
# max-pool), the backbone of mmlt's Tiny-ImageNet stage-1 classifiers (see
# _base_/models/faster-rcnn_r18-cifar_fpn.py); images at their native 64 px.
# Schedule: CPU, 2 cores: 4 epochs at batch 16 (5,388 iterations; _base_/schedules/cpu_sgd_4e.py).
#   python3 tools/det/train.py configs/det/faster-rcnn_r18-cifar_fpn_scratch_cpu-4e_tiny-imagenet-lt-r100.py
_base_ = [
    './_base_/models/faster-rcnn_r18-cifar_fpn.py',
    './_base_/datasets/tiny-imagenet-lt-r100_det.py',
    './_base_/schedules/cpu_sgd_4e.py',
    './_base_/det_runtime.py',
]
