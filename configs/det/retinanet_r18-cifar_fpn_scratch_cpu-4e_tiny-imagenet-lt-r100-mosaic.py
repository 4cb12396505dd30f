# As retinanet_r18-cifar_fpn_scratch_cpu-4e_tiny-imagenet-lt-r100.py, trained on the 2x2 mosaic of
# the long-tailed training images (mmlt.det.TinyImageNetLTDetMosaic: 5,388 canvases, every image
# once; canvases at 128 px, tiles at the native 64 px); 4 canvases a batch (16 tiles, as the plain
# set's 16 images), so an epoch has the same 1,347 iterations. Val / test: the plain official val
# set.
# Schedule: CPU, 2 cores: 4 epochs (_base_/schedules/cpu_sgd_4e.py).
_base_ = './retinanet_r18-cifar_fpn_scratch_cpu-4e_tiny-imagenet-lt-r100.py'

mosaic_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(128, 128), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(
    batch_size=4,
    dataset=dict(
        type='TinyImageNetLTDetMosaic', mosaic_k=2, mosaic_canvas=128,
        pipeline=mosaic_pipeline))
