# Stage 2 after DSCL + PBSD on CIFAR-10-LT: cRT (Kang et al.) on the frozen stage-1 ResNet-32
# (BatchNorm in eval mode; features = backbone + global average pooling, the `feat` of DSCL's
# predict mode): a re-initialised linear classifier (N(0, 0.01)) trained with class-balanced
# sampling, 10 epochs, cosine, batch 512, wd 5e-4, lr 0.02 (as CFRL's cRT: 0.2 diverged on
# contrastive features in short runs; tools/benchmark/lt_results.py --crt-lrs picks it on the
# validation split). The training images get the augmentation of the DSCL authors' linear stage
# (equal_lincls.py: random resized crop of scale (0.08, 1), colour jitter p 0.8, grayscale p 0.2,
# flip; blur left out at 32 px), adopted after the fidelity A/B (docs/results.md: +7 points
# top-1 over CIFAR's crop + flip at its budget). The SCL / DSCL / SCL + PBSD ablations use this
# config too, with model.backbone.init_cfg.checkpoint set to their stage-1 checkpoint.
#
#   python tools/train.py configs/dscl/dscl-pbsd_r32_crt-1xb512-10e_cifar10-lt-r100.py
_base_ = '../decoupled/crt_resnet32_1xb512-10e_cifar10-lt-r100.py'
stage1_checkpoint = 'work_dirs/dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100/epoch_200.pth'

model = dict(backbone=dict(init_cfg=dict(checkpoint=stage1_checkpoint)))
optim_wrapper = dict(optimizer=dict(lr=0.02))
data_preprocessor = dict(augments=[
    dict(type='RandomResizedCrop', size=(32, 32), scale=(0.08, 1.)),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1, p=0.8),
    dict(type='RandomGrayscale', p=0.2),
    dict(type='RandomHorizontalFlip'),
])
