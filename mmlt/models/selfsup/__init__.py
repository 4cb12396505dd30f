from .dscl import DSCL

__all__ = ['DSCL']
from .cfrl import CFRL, check_rotations, rotate_crops  # noqa: E402,F401
__all__ += ['CFRL', 'check_rotations', 'rotate_crops']
