from .class_mean_hook import ClassMeanHook  # noqa: F401
from .sampler_state_hook import SamplerStateHook  # noqa: F401
from .random_state_hook import RandomStateHook  # noqa: F401
from .bn_recalibration_hook import BNRecalibrationHook  # noqa: F401
from .compile_hook import TorchCompileHook  # noqa: F401
from .invalid_loss_hook import InvalidLossHook  # noqa: F401
from .checkpoint_shape_hook import CheckpointShapeHook  # noqa: F401
from .atomic_checkpoint_hook import AtomicCheckpointHook  # noqa: F401
