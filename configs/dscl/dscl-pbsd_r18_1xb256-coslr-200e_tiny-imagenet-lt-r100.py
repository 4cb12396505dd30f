# DSCL + PBSD stage 1 on Tiny-ImageNet-LT (IR 100) with ResNet-18 (CIFAR stem): 64 px views,
# L = 5 patches resized to 32 px, RoIAlign on the 512 x 8 x 8 last stage (spatial_scale 1/8), a
# queue of 8192 labelled keys; otherwise the paper's recipe (see dscl_r50_imagenet-lt.py).
# Stage 2: dscl-pbsd_r18_crt-1xb512-10e_tiny-imagenet-lt-r100.py.
#
#   python tools/train.py configs/dscl/dscl-pbsd_r18_1xb256-coslr-200e_tiny-imagenet-lt-r100.py
_base_ = [
    '../_base_/models/dscl_resnet18_tiny_imagenet.py',
    '../_base_/datasets/tiny_imagenet_lt_r100_dscl.py',
    '../_base_/schedules/dscl_sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]

default_hooks = dict(checkpoint=dict(interval=50, max_keep_ckpts=2))
