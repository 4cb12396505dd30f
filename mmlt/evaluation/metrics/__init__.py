from .long_tail_accuracy import LongTailAccuracy, shot_groups

__all__ = ['LongTailAccuracy', 'shot_groups']
