# Fidelity A/B (docs/results.md), arm `mmlt`: the main DSCL + PBSD CIFAR-10-LT config as it was
# when the A/B ran, with every setting that an arm changes pinned to its value then, so that the
# A/B stays reproducible when the main config adopts the arms that won: crops cut from the fully
# augmented query, MoCo v2 global views (scale (0.2, 1), the same for query and key), RoIAlign
# aligned=True, contrast set = own key + queue, zero_init_residual=False. Each arm config below
# changes one of them.
_base_ = '../dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100.py'

model = dict(
    backbone=dict(zero_init_residual=False),
    roi_neck=dict(aligned=True, sampling_ratio=0),
    head=dict(contrast_mode='queue'))
data_preprocessor = dict(
    views=dict(
        query={{_base_.view_augments}},
        key=None,
        query_color=None,
        patch={{_base_.patch_augments}}))
