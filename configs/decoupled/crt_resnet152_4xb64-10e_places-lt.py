# Stage 2, cRT (Kang et al., config/Places_LT/cls_crt.yaml) on the Places-LT stage-1
# ResNet-152: backbone and neck frozen, the linear classifier re-initialised and trained with
# class-aware sampling (4 images per class visit, epochs of 4980 x 365 samples), 10 epochs,
# lr 0.1 cosine, batch 256, wd 5e-4.
_base_ = './ce_resnet152-in1k-pre_4xb64-30e_places-lt.py'
stage1_checkpoint = 'work_dirs/ce_resnet152-in1k-pre_4xb64-30e_places-lt/epoch_30.pth'

model = dict(
    type='DecoupledClassifier',
    freeze=('backbone', 'neck'),
    # routed to the backbone, replacing its ImageNet-1k init
    init_cfg=dict(
        type='Pretrained', checkpoint=stage1_checkpoint, prefix='backbone.'))
train_dataloader = dict(sampler=dict(type='ClassAwareSampler', num_samples_cls=4))
train_cfg = dict(max_epochs=10)
