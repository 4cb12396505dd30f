# DSCL + PBSD (Xuan & Zhang, AAAI 2024) on MoCo v2 with a ResNet-50: query encoder = backbone +
# projection MLP 2048-2048-ReLU-128, key encoder = its EMA (m = 0.999), a labelled queue of
# K = 65536 keys (empty at the start), tau = 0.07, alpha = 0.1 (Eq. 8-9), PBSD with lambda = 1.5
# on 2x2 RoIAlign features of the last stage (stride 32).
# Choices of the authors' code, adopted after the fidelity A/B (docs/results.md; none measurably
# worse than mmlt's earlier defaults at its budget): the contrast set is [q batch ; k batch ; queue]
# with self masked (contrast_mode='batch_queue'; 'queue' = own key + queue, the paper's M, whose
# loss does not depend on the number of GPUs), and RoIAlign without the half-pixel shift
# (aligned=False, adaptive sampling; True is the detectron2 convention). Not adopted: the authors'
# zero_init_residual=True and their global views, both worse at the A/B's budget. SCL:
# head.loss=dict(type='SCLLoss'). No PBSD: pbsd_head=None, roi_neck=None (and a two-view pipeline).
model = dict(
    type='DSCL',
    queue_len=65536,
    feat_dim=128,
    momentum=0.001,  # mmengine's EMA convention: 1 - m
    use_labels=True,
    shuffle_bn=True,
    backbone=dict(
        type='ResNet',
        depth=50,
        out_indices=(3, ),
        norm_cfg=dict(type='BN'),
        zero_init_residual=False),
    neck=dict(
        type='MoCoV2Neck',
        in_channels=2048,
        hid_channels=2048,
        out_channels=128,
        with_avg_pool=True),
    head=dict(
        type='DSCLHead',
        loss=dict(type='DSCLLoss', alpha=0.1),
        temperature=0.07,
        contrast_mode='batch_queue'),
    pbsd_head=dict(type='PBSDHead', temperature=0.07, loss_weight=1.5),
    roi_neck=dict(
        type='PatchRoINeck', output_size=2, spatial_scale=1. / 32, aligned=False,
        sampling_ratio=0),
)
