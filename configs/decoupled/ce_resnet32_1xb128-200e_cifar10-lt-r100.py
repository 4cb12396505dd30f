# Stage 1 of the decoupled pipeline (Kang et al., ICLR 2020): a plain cross-entropy ResNet-32 on
# CIFAR-10-LT (IR 100) with instance-balanced sampling. Stage-2 configs load its checkpoint.
# Augmentation (random crop with 4 px padding, flip) is drawn in batches on the model's device
# (cifar10_lt_r100_batchaug.py); the per-image reference: ce_resnet32_1xb128-200e_cifar10-lt-r100_per-image.py.
_base_ = [
    '../_base_/models/resnet32_cifar.py',
    '../_base_/datasets/cifar10_lt_r100_batchaug.py',
    '../_base_/schedules/cifar_lt_sgd_200e.py',
    '../_base_/default_runtime.py',
]
