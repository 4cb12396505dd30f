# DSCL + PBSD with the CIFAR ResNet-32 (64 x 8 x 8 last stage at 32 px, so RoIAlign's
# spatial_scale is 1/4), a 64-512-ReLU-128 projection MLP and a queue of 4096 labelled keys.
# See dscl_resnet50.py for the other fields.
_base_ = './dscl_resnet50.py'

model = dict(
    queue_len=4096,
    backbone=dict(_delete_=True, type='CifarResNet', depth=32),
    neck=dict(in_channels=64, hid_channels=512, out_channels=128),
    roi_neck=dict(spatial_scale=1. / 4),
)
