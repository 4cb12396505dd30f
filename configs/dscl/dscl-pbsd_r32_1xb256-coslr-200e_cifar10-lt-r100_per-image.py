# dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100.py with the per-image reference pipeline: the
# views, boxes and crops are made by PBSDMultiView in dataloader workers (decoding the JPEG files
# every epoch) instead of in batches on the model's device.
_base_ = [
    '../_base_/models/dscl_resnet32_cifar.py',
    '../_base_/datasets/cifar10_lt_r100_dscl.py',
    '../_base_/schedules/dscl_sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]

default_hooks = dict(checkpoint=dict(interval=50, max_keep_ckpts=2))
