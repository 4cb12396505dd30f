from .data_preprocessor import PatchViewsDataPreprocessor
from .queue import LabeledQueue

__all__ = ['LabeledQueue', 'PatchViewsDataPreprocessor']
