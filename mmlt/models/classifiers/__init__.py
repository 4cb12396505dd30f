from .decoupled import DecoupledClassifier  # noqa: F401
from .tta import AverageScoreTTA  # noqa: F401
