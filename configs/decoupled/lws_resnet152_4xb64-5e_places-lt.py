# Stage 2, LWS (Kang et al., config/Places_LT/cls_lws.yaml) on the Places-LT stage-1
# ResNet-152: the whole stage-1 model loaded and frozen, one learnable scale per class trained
# with class-aware sampling (4 images per class visit, epochs of 4980 x 365 samples), 5 epochs,
# lr 0.1 cosine, batch 256, wd 5e-4.
_base_ = './ce_resnet152-in1k-pre_4xb64-30e_places-lt.py'
stage1_checkpoint = 'work_dirs/ce_resnet152-in1k-pre_4xb64-30e_places-lt/epoch_30.pth'

model = dict(
    type='DecoupledClassifier',
    freeze=('backbone', 'neck'),
    backbone=dict(init_cfg=None),  # everything comes from the stage-1 checkpoint
    head=dict(type='LWSHead'),
    init_cfg=dict(type='Pretrained', checkpoint=stage1_checkpoint))
train_dataloader = dict(sampler=dict(type='ClassAwareSampler', num_samples_cls=4))
train_cfg = dict(max_epochs=5)
