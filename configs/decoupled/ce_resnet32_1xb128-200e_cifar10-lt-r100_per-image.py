# ce_resnet32_1xb128-200e_cifar10-lt-r100.py with the per-image reference pipeline
# (LoadImageFromFile, RandomCrop, RandomFlip in dataloader workers) instead of the batched
# augmentation on the model's device.
_base_ = './ce_resnet32_1xb128-200e_cifar10-lt-r100.py'

data_preprocessor = dict(augments=[], channels_last=False)
train_dataloader = dict(
    num_workers=2,
    persistent_workers=True,
    dataset=dict(preload=False, pipeline={{_base_.train_pipeline}}))
