# Stage 2, LWS (Kang et al., config/iNaturalist18/cls_lws.yaml) on the 90-epoch iNaturalist
# stage-1 ResNet-50: the whole stage-1 model loaded and frozen, one learnable scale per class
# trained with class-aware sampling (4 images per class visit, epochs of 1000 x 8142 samples),
# 5 epochs, lr 0.2 cosine, batch 512, wd 1e-4.
_base_ = './ce_resnet50_4xb128-90e_inat18.py'
stage1_checkpoint = 'work_dirs/ce_resnet50_4xb128-90e_inat18/epoch_90.pth'

model = dict(
    type='DecoupledClassifier',
    freeze=('backbone', 'neck'),
    head=dict(type='LWSHead'),
    init_cfg=dict(type='Pretrained', checkpoint=stage1_checkpoint))
train_dataloader = dict(sampler=dict(type='ClassAwareSampler', num_samples_cls=4))
train_cfg = dict(max_epochs=5)
