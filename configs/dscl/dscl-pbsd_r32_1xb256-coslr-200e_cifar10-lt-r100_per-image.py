# dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100.py with the per-image reference pipeline: the
# views, boxes and crops are made by PBSDMultiView in dataloader workers (decoding the JPEG files
# every epoch) instead of in batches on the model's device.
_base_ = './dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100.py'

data_preprocessor = dict(
    _delete_=True,
    type='PatchViewsDataPreprocessor',
    mean={{_base_.data_preprocessor.mean}},
    std={{_base_.data_preprocessor.std}},
    to_rgb=True)
train_dataloader = dict(
    num_workers=2,
    persistent_workers=True,
    dataset=dict(preload=False, pipeline={{_base_.train_pipeline}}))
