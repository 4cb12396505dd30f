# CIFAR-10-LT (IR 100) with the batched augmentation path: the dataset decodes its images once
# (preload=True), the dataloader only packs them (no worker process), and the data preprocessor
# draws RandomCrop(32, padding=4) + flip per sample as tensor operations on the model's device
# (kornia). Same augmentation distribution as the per-image pipeline of cifar10_lt_r100.py, which
# stays the reference.
_base_ = './cifar10_lt_r100.py'

data_preprocessor = dict(
    type='BatchAugClsDataPreprocessor',
    channels_last=True,
    augments=[
        dict(type='RandomCrop', size=(32, 32), padding=4),
        dict(type='RandomHorizontalFlip'),
    ])
train_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(preload=True, pipeline=[dict(type='PackInputs')]))
