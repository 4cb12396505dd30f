# CFRL stage 1b with labels joining through DSCL (Xuan & Zhang, AAAI 2024, Eq. 8-9): the patch
# level of cfrl-patch_r32_1xb256-coslr-100e_cifar10-lt-r100.py, but the image-level term is L_dscl
# with alpha = 0.1 and tau = 0.07 over a labelled queue (the entries written by the label-free
# stage 1a carry label -1 and are never positives). Still initialised from stage 1a.
#
#   python tools/train.py configs/cfrl/cfrl-patch-dscl_r32_1xb256-coslr-100e_cifar10-lt-r100.py
_base_ = './cfrl-patch_r32_1xb256-coslr-100e_cifar10-lt-r100.py'

model = dict(
    use_labels=True,
    head=dict(loss=dict(alpha=0.1), temperature=0.07),
)
