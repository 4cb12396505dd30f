# Fidelity A/B (docs/results.md): cRT on a DSCL + PBSD backbone with the augmentation of the
# authors' linear stage (equal_lincls.py): random resized crop of scale (0.08, 1), colour jitter
# p 0.8, grayscale p 0.2, flip (blur left out at 32 px, as in stage 1). The main cRT config:
# CIFAR's random crop with 4 px padding and a flip.
_base_ = './dscl-pbsd_r32_crt_cifar10-lt-r100_ab-baseline.py'

data_preprocessor = dict(augments=[
    dict(type='RandomResizedCrop', size=(32, 32), scale=(0.08, 1.)),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1, p=0.8),
    dict(type='RandomGrayscale', p=0.2),
    dict(type='RandomHorizontalFlip'),
])
