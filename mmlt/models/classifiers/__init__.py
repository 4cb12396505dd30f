from .decoupled import DecoupledClassifier  # noqa: F401
