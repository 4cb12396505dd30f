from .batch_augment import BatchAugment, MultiViewBatchAugment
from .data_preprocessor import (BatchAugClsDataPreprocessor, BatchAugViewsDataPreprocessor,
                                PatchViewsDataPreprocessor)
from .queue import LabeledQueue

__all__ = [
    'BatchAugment', 'BatchAugClsDataPreprocessor', 'BatchAugViewsDataPreprocessor',
    'LabeledQueue', 'MultiViewBatchAugment', 'PatchViewsDataPreprocessor'
]
