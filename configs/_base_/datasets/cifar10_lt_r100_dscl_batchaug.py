# CIFAR-10-LT (IR 100) contrastive views drawn in batches: the dataset decodes its images once
# (preload=True), the dataloader only packs them (no worker process), and
# BatchAugViewsDataPreprocessor draws the query / key views and the L = 5 patch boxes and crops per
# sample as tensor operations on the model's device (kornia). The augmentations and their
# parameters are those of the per-image pipelines in cifar10_lt_r100_dscl.py (the reference).
# `pbsd_views` (default) makes [query, key, crops]; `mocov2_views` the two views for runs without
# patches: data_preprocessor = dict(views={{_base_.mocov2_views}}).
_base_ = './cifar10_lt_r100_dscl.py'

view_geometric = [
    dict(type='RandomResizedCrop', size=(32, 32), scale=(0.2, 1.)),
    dict(type='RandomHorizontalFlip'),
]
view_color = [
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1, p=0.8),
    dict(type='RandomGrayscale', p=0.2),
]
view_augments = view_geometric + view_color
patch_augments = view_augments[1:]  # each crop: flip, jitter, grayscale
# The patch crops are cut where the DSCL authors cut them (fidelity A/B, docs/results.md): from
# the query after its geometric steps and before its colour steps (query_color), so only each
# crop's own augmentation colours it.
pbsd_views = dict(
    query=view_geometric,
    query_color=view_color,
    patch=patch_augments,
    num_patches=5,
    patch_size=16,
    scale=(0.05, 0.6),
    ratio=(3. / 4., 4. / 3.))
mocov2_views = dict(query=view_augments, num_patches=0)

# The DSCL authors' views (their main.py and dscl/loader_roi.py), at 32 px without blur (as the
# MoCo v2 views above): random resized crops of scale (0.08, 1); the query is flipped, the boxes
# are drawn on it and the crops cut BEFORE its colour steps (jitter incl. hue p 0.8, grayscale
# p 0.2), each crop then gets flip / jitter / grayscale; the key gets jitter without hue, always,
# and a flip, no grayscale.
authors_crop = dict(type='RandomResizedCrop', size=(32, 32), scale=(0.08, 1.))
authors_query = [authors_crop] + view_augments[1:]
authors_key = [
    authors_crop,
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0., p=1.),
    dict(type='RandomHorizontalFlip'),
]

data_preprocessor = dict(
    type='BatchAugViewsDataPreprocessor', channels_last=True, views=pbsd_views)
train_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(preload=True, pipeline=[dict(type='PackInputs')]))
