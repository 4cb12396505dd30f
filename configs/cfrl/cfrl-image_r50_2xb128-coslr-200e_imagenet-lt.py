# CFRL (Song et al., MMAsia 2024) stage 1a, IMAGE LEVEL, on ImageNet-LT (ResNet-50, 2 GPUs x 128):
# unsupervised MoCo v2 (no labels, so the imbalance cannot bias the representation through them) =
# the DSCL algorithm with use_labels=False and alpha = 1 (InfoNCE over the queue), tau = 0.2, two
# MoCo v2 views, no patch branch. Everything else is the DSCL stage-1 recipe of the same dataset
# (configs/dscl_r50_imagenet-lt.py): backbone, projection MLP, queue, EMA momentum, SGD lr 0.1 x
# batch / 256, wd 5e-4, 10 warm-up epochs then cosine, 200 epochs. roi_neck (no parameters) is
# kept so that stage 1b has the same state dict. Next:
# cfrl-patch_r50_2xb128-coslr-100e_imagenet-lt.py (stage 1b, init_cfg = this run's last
# checkpoint).
#
#   tools/dist_train.sh configs/cfrl/cfrl-image_r50_2xb128-coslr-200e_imagenet-lt.py 2
_base_ = [
    '../_base_/models/dscl_resnet50.py',
    '../_base_/datasets/imagenet_lt_dscl.py',
    '../_base_/schedules/dscl_sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='CFRL',
    use_labels=False,
    # MoCo v2's contrast set (own key + queue), not the DSCL authors' [q; k; queue] of the base
    head=dict(loss=dict(alpha=1.0), temperature=0.2, contrast_mode='queue'),
    pbsd_head=None,  # and no rotation_head (its default): image level only
)
train_dataloader = dict(dataset=dict(pipeline={{_base_.mocov2_train_pipeline}}))
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
