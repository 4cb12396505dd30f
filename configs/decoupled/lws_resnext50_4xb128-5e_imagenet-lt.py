# Stage 2, LWS (Kang et al., config/ImageNet_LT/cls_lws.yaml) on the instance-balanced stage-1
# ResNeXt-50: the whole stage-1 model loaded and frozen, one learnable scale per class
# (LWSHead, initialised to 1) trained with class-aware sampling (4 images per class visit,
# epochs of 1280 x 1000 samples), 5 epochs, lr 0.2 cosine, batch 512, wd 5e-4 (their value; the
# CIFAR LWS configs use 0).
_base_ = './ce_resnext50_4xb128-90e_imagenet-lt.py'
stage1_checkpoint = 'work_dirs/ce_resnext50_4xb128-90e_imagenet-lt/epoch_90.pth'

model = dict(
    type='DecoupledClassifier',
    freeze=('backbone', 'neck'),
    head=dict(type='LWSHead'),
    init_cfg=dict(type='Pretrained', checkpoint=stage1_checkpoint))
train_dataloader = dict(sampler=dict(type='ClassAwareSampler', num_samples_cls=4))
train_cfg = dict(max_epochs=5)
