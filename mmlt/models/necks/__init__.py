from .roi_neck import PatchRoINeck

__all__ = ['PatchRoINeck']
