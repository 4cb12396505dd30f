from .batch_augment import BatchAugment, MultiViewBatchAugment
from .data_preprocessor import (BatchAugClsDataPreprocessor, BatchAugViewsDataPreprocessor,
                                PatchViewsDataPreprocessor)
from .queue import LabeledQueue
from .sync_bn import AllReduceSyncBatchNorm

__all__ = [
    'AllReduceSyncBatchNorm', 'BatchAugment', 'BatchAugClsDataPreprocessor',
    'BatchAugViewsDataPreprocessor', 'LabeledQueue', 'MultiViewBatchAugment', 'PatchViewsDataPreprocessor'
]
