# Stage 1 of the decoupled pipeline (Kang et al., ICLR 2020): a plain cross-entropy ResNet-32 on
# CIFAR-10-LT (IR 100) with instance-balanced sampling. Stage-2 configs load its checkpoint.
_base_ = [
    '../_base_/models/resnet32_cifar.py',
    '../_base_/datasets/cifar10_lt_r100.py',
    '../_base_/schedules/cifar_lt_sgd_200e.py',
    '../_base_/default_runtime.py',
]
