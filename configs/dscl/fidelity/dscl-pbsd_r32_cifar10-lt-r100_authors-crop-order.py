# Fidelity A/B (docs/results.md): DSCL + PBSD on CIFAR-10-LT with the patch crops cut where the
# DSCL authors cut them: from the query after its geometric steps (random resized crop, flip) and
# BEFORE its colour steps, so only each crop's own flip / jitter / grayscale colours it. mmlt's
# other order (the main config's): crops of the fully augmented query, which inherit its colour
# jitter and grayscale before their own.
_base_ = './dscl-pbsd_r32_cifar10-lt-r100_ab-baseline.py'

data_preprocessor = dict(
    views=dict(query={{_base_.view_geometric}}, query_color={{_base_.view_color}}))
