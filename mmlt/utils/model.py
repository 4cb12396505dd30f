"""Reach the model inside the wrappers a runner may put around it."""
import torch.nn as nn
from mmengine.model import BaseTTAModel, is_model_wrapper


def unwrap_model(model: nn.Module) -> nn.Module:
    """The model itself, without DDP-style wrappers and without a test-time-augmentation wrapper.

    ``tools/test.py --tta`` puts the config's model inside a :class:`mmengine.model.BaseTTAModel`
    (e.g. MMPretrain's ``AverageClsScoreTTA``), and distributed runs put that inside a model
    wrapper: hooks that need the classifier (its head, backbone or state dict) unwrap both.

    Args:
        model (nn.Module): ``runner.model``.

    Returns:
        nn.Module: The innermost model.
    """
    if is_model_wrapper(model):
        model = model.module
    if isinstance(model, BaseTTAModel):
        model = model.module
    return model
