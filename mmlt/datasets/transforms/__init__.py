from .pbsd import PBSDMultiView, sample_boxes

__all__ = ['PBSDMultiView', 'sample_boxes']
