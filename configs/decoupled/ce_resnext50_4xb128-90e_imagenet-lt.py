# Stage 1 of Kang et al. (ICLR 2020) on ImageNet-LT: a cross-entropy ResNeXt-50 (32x4d) from
# scratch with instance-balanced sampling, their config/ImageNet_LT/feat_uniform.yaml: batch 512
# (4 GPUs x 128), SGD lr 0.2 cosine to 0, momentum 0.9, wd 5e-4, 90 epochs. Sampling variants:
# *_square-root.py, *_progressive.py, *_class-balanced.py; stage 2 on top of this run: crt_ /
# lws_ / tau-norm_ / ncm_resnext50_*imagenet-lt.py. Another world size: keep 512 in total or
# pass --auto-scale-lr.
#
#   tools/dist_train.sh configs/decoupled/ce_resnext50_4xb128-90e_imagenet-lt.py 4
_base_ = [
    'mmpretrain::_base_/models/resnext50_32x4d.py',
    '../_base_/datasets/imagenet_lt_decoupling.py',
    '../_base_/schedules/decoupling_sgd_cos_90e.py',
    '../_base_/default_runtime.py',
]
