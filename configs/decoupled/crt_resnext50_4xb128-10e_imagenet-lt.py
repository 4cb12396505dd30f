# Stage 2, cRT (Kang et al., config/ImageNet_LT/cls_crt.yaml) on the instance-balanced stage-1
# ResNeXt-50: backbone and neck frozen (BatchNorm in eval mode), the linear classifier
# re-initialised (LinearClsHead's N(0, 0.01)) and trained with class-aware sampling, 4 images per
# class visit, epochs of 1280 x 1000 samples, 10 epochs, lr 0.2 cosine, batch 512, wd 5e-4.
# Another stage-1 run: --cfg-options model.init_cfg.checkpoint=PATH.
_base_ = './ce_resnext50_4xb128-90e_imagenet-lt.py'
stage1_checkpoint = 'work_dirs/ce_resnext50_4xb128-90e_imagenet-lt/epoch_90.pth'

model = dict(
    type='DecoupledClassifier',
    freeze=('backbone', 'neck'),
    # the prefix routes it to the backbone (DecoupledClassifier): the stage-1 backbone only
    init_cfg=dict(
        type='Pretrained', checkpoint=stage1_checkpoint, prefix='backbone.'))
train_dataloader = dict(sampler=dict(type='ClassAwareSampler', num_samples_cls=4))
train_cfg = dict(max_epochs=10)
