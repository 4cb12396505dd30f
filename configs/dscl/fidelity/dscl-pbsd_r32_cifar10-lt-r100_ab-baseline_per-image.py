# Fidelity A/B (docs/results.md), arm `per-image`: the `mmlt` arm (ab-baseline) with the per-image
# reference pipeline (PBSDMultiView in dataloader workers) instead of the batched views: checks
# that the fast path trains to the same accuracy.
_base_ = './dscl-pbsd_r32_cifar10-lt-r100_ab-baseline.py'

data_preprocessor = dict(
    _delete_=True,
    type='PatchViewsDataPreprocessor',
    mean={{_base_.data_preprocessor.mean}},
    std={{_base_.data_preprocessor.std}},
    to_rgb=True)
train_dataloader = dict(
    num_workers=2,
    persistent_workers=True,
    dataset=dict(
        preload=False,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(
                type='PBSDMultiView',
                query_transforms={{_base_.view_pipeline}},
                patch_transforms={{_base_.patch_pipeline}},
                num_patches=5,
                patch_size=16,
                scale=(0.05, 0.6),
                ratio=(3. / 4., 4. / 3.)),
            dict(type='PackInputs', algorithm_keys=['patch_boxes']),
        ]))
