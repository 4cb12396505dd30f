# Tiny-ImageNet-LT detection (IR 100), mosaic training set (mmlt.det.TinyImageNetLTDetMosaic):
# the 21,549 long-tailed training images tiled 2x2 on 128x128 canvases (5,388 canvases, every
# image once, boxes moved with their tile; built on first use under data_root/mosaic/, about
# 220 MB of PNG). The tiles keep the 64 px scale of the plain set; val / test are the plain
# official val set at 64 px, as in tiny-imagenet-lt-r100_det.py.
_base_ = './tiny-imagenet-lt-r100_det.py'

mosaic_scale = (128, 128)
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=mosaic_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(
    batch_size=4,  # 4 canvases = 16 tiles, the plain set's 16 images per batch
    dataset=dict(type='TinyImageNetLTDetMosaic', mosaic_k=2, mosaic_canvas=128,
                 pipeline=train_pipeline))
