# Stage 1 of the decoupled pipeline: cross-entropy ResNet-18 (CIFAR stem) on Tiny-ImageNet-LT
# (IR 100) with instance-balanced sampling.
_base_ = [
    '../_base_/models/resnet18_tiny_imagenet.py',
    '../_base_/datasets/tiny_imagenet_lt_r100.py',
    '../_base_/schedules/cifar_lt_sgd_200e.py',
    '../_base_/default_runtime.py',
]
optim_wrapper = dict(optimizer=dict(weight_decay=5e-4))
