# Stage 1 of Kang et al. (ICLR 2020) on iNaturalist 2018: a cross-entropy ResNet-50 from
# scratch with instance-balanced sampling, their config/iNaturalist18/feat_unifrom.yaml: batch
# 512 (4 GPUs x 128), SGD lr 0.2 cosine to 0, momentum 0.9, wd 1e-4, 90 epochs (the paper also
# reports 200: ce_resnet50_4xb128-200e_inat18.py). Stage 2: crt_ / lws_ /
# tau-norm_resnet50_*inat18.py.
#
#   tools/dist_train.sh configs/decoupled/ce_resnet50_4xb128-90e_inat18.py 4
_base_ = [
    'mmpretrain::_base_/models/resnet50.py',
    '../_base_/datasets/inat18_decoupling.py',
    '../_base_/schedules/decoupling_sgd_cos_90e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=8142))
optim_wrapper = dict(optimizer=dict(weight_decay=1e-4))
