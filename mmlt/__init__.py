"""mmlt: long-tailed recognition for OpenMMLab MMPretrain.

Importing ``mmlt`` (configs do it with ``custom_imports = dict(imports=['mmlt'])``) registers its
datasets, samplers, transforms, models and metrics in MMPretrain's and MMEngine's registries and
applies the compatibility fixes in :mod:`mmlt.utils.compat`. It also registers mmlt's model
index with MMPretrain's model hub (:mod:`mmlt.apis.model_zoo`), so that ``mmpretrain.list_models``,
``get_model`` and the inferencers know mmlt's models by name.
"""
from .utils import compat  # noqa: F401,I001  (first: patches before anything loads checkpoints)
from . import datasets, engine, evaluation, models, visualization  # noqa: F401
from .version import __version__
from .apis import register_model_zoo  # noqa: I001

register_model_zoo(strict=False)  # mmlt's models in mmpretrain.list_models / get_model

__all__ = ['__version__']
