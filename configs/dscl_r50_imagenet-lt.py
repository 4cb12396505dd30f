# DSCL + PBSD (Xuan & Zhang, AAAI 2024, "Decoupled Contrastive Learning for Long-Tailed
# Recognition"), stage 1 on ImageNet-LT with a ResNet-50: the paper's recipe (reported 57.7 top-1
# after the stage-2 linear classifier, configs/dscl/dscl_r50_linear-40e_imagenet-lt.py).
#
#   tools/dist_train.sh configs/dscl_r50_imagenet-lt.py 2 [--amp bf16]
#
# 2 GPUs x 128 = 256 images per step, lr 0.1 x 256 / 256, 10 warm-up epochs then cosine, 200
# epochs, SGD momentum 0.9, wd 5e-4; K = 65536, L = 5 patches of 64 px, lambda = 1.5, alpha = 0.1,
# tau = 0.07, m = 0.999; MoCo v2 augmentations. Another world size: keep 256 in total (e.g. 8 x 32
# with train_dataloader.batch_size=32) or pass --auto-scale-lr.
_base_ = [
    '_base_/models/dscl_resnet50.py',
    '_base_/datasets/imagenet_lt_dscl.py',
    '_base_/schedules/dscl_sgd_coslr_200e.py',
    '_base_/default_runtime.py',
]

default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
