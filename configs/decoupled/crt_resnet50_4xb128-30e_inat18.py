# Stage 2, cRT (Kang et al., config/iNaturalist18/cls_crt.yaml) on the 90-epoch iNaturalist
# stage-1 ResNet-50: backbone and neck frozen, the linear classifier re-initialised and trained
# with class-aware sampling (4 images per class visit, epochs of 1000 x 8142 samples), 30
# epochs, lr 0.2 cosine, batch 512, wd 1e-4. For the 200-epoch stage 1:
#   --cfg-options model.init_cfg.checkpoint=work_dirs/ce_resnet50_4xb128-200e_inat18/epoch_200.pth
_base_ = './ce_resnet50_4xb128-90e_inat18.py'
stage1_checkpoint = 'work_dirs/ce_resnet50_4xb128-90e_inat18/epoch_90.pth'

model = dict(
    type='DecoupledClassifier',
    freeze=('backbone', 'neck'),
    init_cfg=dict(
        type='Pretrained', checkpoint=stage1_checkpoint, prefix='backbone.'))
train_dataloader = dict(sampler=dict(type='ClassAwareSampler', num_samples_cls=4))
train_cfg = dict(max_epochs=30)
