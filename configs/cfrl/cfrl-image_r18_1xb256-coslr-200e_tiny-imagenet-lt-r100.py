# CFRL (Song et al., MMAsia 2024) stage 1a, IMAGE LEVEL, on Tiny-ImageNet-LT (IR 100):
# unsupervised MoCo v2 (no labels, so the imbalance cannot bias the representation through them) =
# the DSCL algorithm with use_labels=False and alpha = 1 (InfoNCE over the queue), tau = 0.2, two
# MoCo v2 views, no patch branch. Everything else is the DSCL stage-1 recipe of the same dataset
# (configs/dscl/dscl-pbsd_r18_1xb256-coslr-200e_tiny-imagenet-lt-r100.py): backbone, projection
# MLP, queue, EMA momentum, SGD lr 0.1 x batch / 256, wd 5e-4, 10 warm-up epochs then cosine, 200
# epochs. roi_neck (no parameters) is kept so that stage 1b has the same state dict. Next:
# cfrl-patch_r18_1xb256-coslr-100e_tiny-imagenet-lt-r100.py (stage 1b, init_cfg = this run's last
# checkpoint).
#
#   python tools/train.py configs/cfrl/cfrl-image_r18_1xb256-coslr-200e_tiny-imagenet-lt-r100.py
_base_ = [
    '../_base_/models/dscl_resnet18_tiny_imagenet.py',
    '../_base_/datasets/tiny_imagenet_lt_r100_dscl.py',
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
default_hooks = dict(checkpoint=dict(interval=50, max_keep_ckpts=2))
