from .lws_head import LWSHead  # noqa: F401
from .ncm_head import NCMHead  # noqa: F401
from .tau_norm_head import TauNormHead  # noqa: F401
from .dscl_head import DSCLHead  # noqa: F401
from .pbsd_head import PBSDHead  # noqa: F401
from .rotation_head import RotationContrastiveHead  # noqa: F401
