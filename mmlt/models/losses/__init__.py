from .dscl_loss import DSCLLoss, SCLLoss, dscl_loss
from .pbsd_loss import PBSDLoss, soft_target_cross_entropy
from .rotation_contrastive_loss import RotationContrastiveLoss, rotation_info_nce

__all__ = [
    'DSCLLoss', 'SCLLoss', 'dscl_loss', 'PBSDLoss', 'soft_target_cross_entropy',
    'RotationContrastiveLoss', 'rotation_info_nce'
]
