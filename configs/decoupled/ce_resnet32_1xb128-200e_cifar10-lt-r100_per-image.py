# The CE stage 1 of ce_resnet32_1xb128-200e_cifar10-lt-r100.py with the per-image reference
# pipeline (LoadImageFromFile, RandomCrop, RandomFlip in dataloader workers).
_base_ = [
    '../_base_/models/resnet32_cifar.py',
    '../_base_/datasets/cifar10_lt_r100.py',
    '../_base_/schedules/cifar_lt_sgd_200e.py',
    '../_base_/default_runtime.py',
]
