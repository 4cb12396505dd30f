from .class_mean_hook import ClassMeanHook  # noqa: F401
from .sampler_state_hook import SamplerStateHook  # noqa: F401
