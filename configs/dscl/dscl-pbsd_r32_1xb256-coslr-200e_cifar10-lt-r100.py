# DSCL + PBSD stage 1 on CIFAR-10-LT (IR 100) with the CIFAR ResNet-32: 32 px views, L = 5
# patches resized to 16 px, RoIAlign on the 8 x 8 last stage (spatial_scale 1/4), a queue of 4096
# labelled keys; otherwise the paper's recipe (alpha 0.1, tau 0.07, lambda 1.5, m 0.999, SGD
# lr 0.1 x 256 / 256, wd 5e-4, 10 warm-up epochs then cosine, 200 epochs). Stage 2:
# dscl-pbsd_r32_crt-1xb512-10e_cifar10-lt-r100.py. The views, boxes and crops are drawn in batches
# on the model's device (cifar10_lt_r100_dscl_batchaug.py); the per-image reference pipeline:
# dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100_per-image.py.
#
#   python tools/train.py configs/dscl/dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100.py
_base_ = [
    '../_base_/models/dscl_resnet32_cifar.py',
    '../_base_/datasets/cifar10_lt_r100_dscl_batchaug.py',
    '../_base_/schedules/dscl_sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]

# one process: MoCo's shuffle-BN needs several GPUs (it is switched off automatically with one)
default_hooks = dict(checkpoint=dict(interval=50, max_keep_ckpts=2))
