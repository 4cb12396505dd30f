# Fidelity A/B (docs/results.md): DSCL + PBSD on CIFAR-10-LT with the authors' global views:
# random resized crops of scale (0.08, 1) instead of MoCo v2's (0.2, 1); the query keeps the
# jitter (hue 0.1) p 0.8 and grayscale p 0.2, the key gets jitter without hue always and a flip,
# no grayscale. The crops are cut as in the main config (this arm changes the global views only).
_base_ = './dscl-pbsd_r32_cifar10-lt-r100_ab-baseline.py'

data_preprocessor = dict(
    views=dict(
        query={{_base_.authors_query}},
        key={{_base_.authors_key}}))
