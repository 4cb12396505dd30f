# DSCL + PBSD with ResNet-18 with the CIFAR stem for 64 px Tiny-ImageNet (512 x 8 x 8 last stage,
# so RoIAlign's spatial_scale is 1/8), a 512-2048-ReLU-128 projection MLP and a queue of 8192
# labelled keys. See dscl_resnet50.py for the other fields.
_base_ = './dscl_resnet50.py'

model = dict(
    queue_len=8192,
    backbone=dict(_delete_=True, type='ResNet_CIFAR', depth=18),
    neck=dict(in_channels=512, hid_channels=2048, out_channels=128),
    roi_neck=dict(spatial_scale=1. / 8),
)
