from .class_power_sampler import (ClassBalancedSampler, ClassPowerSampler,
                                  InstanceBalancedSampler,
                                  ProgressiveBalancedSampler,
                                  SquareRootSampler, dataset_labels)

__all__ = [
    'ClassPowerSampler', 'InstanceBalancedSampler', 'SquareRootSampler',
    'ClassBalancedSampler', 'ProgressiveBalancedSampler', 'dataset_labels'
]
