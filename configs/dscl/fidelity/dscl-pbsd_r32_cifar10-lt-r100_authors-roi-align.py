# Fidelity A/B (docs/results.md): DSCL + PBSD on CIFAR-10-LT with the authors' RoIAlign convention
# for the patch features: torchvision's roi_align with its default aligned=False (no half-pixel
# shift) and adaptive sampling. The main config: aligned=True (the detectron2 convention).
_base_ = './dscl-pbsd_r32_cifar10-lt-r100_ab-baseline.py'

model = dict(roi_neck=dict(aligned=False, sampling_ratio=0))
