# Stage 2 after DSCL + PBSD on Tiny-ImageNet-LT: cRT (Kang et al.) on the frozen stage-1
# ResNet-18 (BatchNorm in eval mode; backbone + global average pooling features), a
# re-initialised linear classifier (N(0, 0.01)), class-balanced sampling, 10 epochs, cosine,
# batch 512, wd 5e-4, lr 0.02 (as CFRL's cRT: 0.2 diverged on contrastive features in short runs;
# untuned). The SCL / DSCL / SCL + PBSD ablations use this config too, with
# model.backbone.init_cfg.checkpoint set to their stage-1 checkpoint.
_base_ = '../decoupled/crt_resnet18_1xb512-10e_tiny-imagenet-lt-r100.py'
stage1_checkpoint = (
    'work_dirs/dscl-pbsd_r18_1xb256-coslr-200e_tiny-imagenet-lt-r100/epoch_200.pth')

model = dict(backbone=dict(init_cfg=dict(checkpoint=stage1_checkpoint)))
optim_wrapper = dict(optimizer=dict(lr=0.02))
