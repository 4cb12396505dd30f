from .class_power_sampler import (ClassAwareSampler, ClassBalancedSampler,
                                  ClassPowerSampler, InstanceBalancedSampler,
                                  ProgressiveBalancedSampler,
                                  SquareRootSampler, dataset_labels)

__all__ = [
    'ClassPowerSampler', 'InstanceBalancedSampler', 'SquareRootSampler',
    'ClassBalancedSampler', 'ClassAwareSampler', 'ProgressiveBalancedSampler',
    'dataset_labels'
]
