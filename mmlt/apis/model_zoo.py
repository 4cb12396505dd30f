# Copyright (c) mmlt contributors. All rights reserved.
"""mmlt's models in MMPretrain's model hub.

``import mmlt`` calls :func:`register_model_zoo`, which hands mmlt's ``model-index.yml`` to
:meth:`mmpretrain.apis.ModelHub.register_model_index` (MMPretrain's public way to add another
code base's model index) with the folder that its ``Config:`` paths are relative to. From then on
MMPretrain's own entry points know mmlt's models::

    import mmlt  # noqa: F401
    from mmpretrain import ImageClassificationInferencer, get_model, list_models
    list_models('*lt*')
    model = get_model('crt_resnet32_1xb512-10e_cifar10-lt-r100', pretrained='epoch_10.pth')
    ImageClassificationInferencer('crt_resnet32_1xb512-10e_cifar10-lt-r100',
                                  pretrained='epoch_10.pth')('image.jpg')

Where the index is found (first match):

1. ``<checkout>/model-index.yml`` next to the ``mmlt`` package folder, in a folder that holds the
   package's ``setup.py`` / ``pyproject.toml`` (a checkout or an editable install), configs under
   ``<checkout>/configs``. It comes first because the checkout's files are the ones being edited:
   a ``mmlt/.mim`` there holds links to them (editable install) or copies made when a wheel was
   built, which may be older;
2. ``<mmlt package>/.mim/model-index.yml``, configs under ``<mmlt package>/.mim/configs``: an
   installed wheel, laid out as MMPretrain's own package.

Registration is idempotent: when every name of the index is already in the hub (``import mmlt``
again, a reload, or a second call) nothing happens. It does not touch MMPretrain's own index,
which the hub loads lazily on the first ``list_models`` / ``get_model`` and adds next to mmlt's
(mmlt's names all contain ``lt`` and none is one of MMPretrain's).
"""
import warnings
from pathlib import Path
from typing import List, Optional, Tuple, Union

PACKAGE_DIR = Path(__file__).resolve().parents[1]
INDEX_NAME = 'model-index.yml'


def find_model_index(package_dir: Union[str, Path, None] = None) -> Optional[Tuple[Path, Path]]:
    """``(model-index.yml, config prefix)`` of mmlt, or None when neither layout has one.

    Args:
        package_dir: the ``mmlt`` package folder (default: the imported one).
    """
    package_dir = Path(package_dir) if package_dir is not None else PACKAGE_DIR
    checkout = package_dir.parent
    # a checkout holds the package's setup files; a bare site-packages folder does not
    if (checkout / INDEX_NAME).is_file() and any(
            (checkout / f).is_file() for f in ('setup.py', 'pyproject.toml')):
        return checkout / INDEX_NAME, checkout
    mim = package_dir / '.mim'
    if (mim / INDEX_NAME).is_file():
        return mim / INDEX_NAME, mim
    return None


def model_names(index: Union[str, Path]) -> List[str]:
    """The (lower-case) model names of a model-index file, as the hub keys them."""
    from modelindex.load_model_index import load
    model_index = load(str(index))
    model_index.build_models_with_collections()
    return [m.name.lower() for m in model_index.models]


def register_model_zoo(index: Union[str, Path, None] = None,
                       config_prefix: Union[str, Path, None] = None,
                       strict: bool = True) -> List[str]:
    """Register mmlt's model index with MMPretrain's ``ModelHub``; return its model names.

    Args:
        index: a ``model-index.yml`` (default: :func:`find_model_index`).
        config_prefix: the folder its ``Config:`` paths are relative to (default: the folder of
            the index found, or of ``index``).
        strict: raise when the index cannot be read; ``False`` (``import mmlt``) warns instead,
            so that a damaged index never stops a training run.

    Returns the names of the index (also when they were registered before), or ``[]`` when no
    index is found or nothing was registered. A name that another index already registered is a
    conflict: nothing of this index is registered and a warning says which names (``import mmlt``
    must not fail on it).
    """
    from mmpretrain.apis import ModelHub

    if index is None:
        found = find_model_index()
        if found is None:
            return []
        index, default_prefix = found
    else:
        index = Path(index)
        default_prefix = index.parent
    prefix = Path(config_prefix) if config_prefix is not None else default_prefix

    try:
        names = model_names(index)
    except Exception as error:  # noqa: B902  (modelindex raises several kinds)
        if strict:
            raise
        warnings.warn(f'mmlt model index {index} not registered with mmpretrain.ModelHub: '
                      f'{type(error).__name__}: {error}')
        return []
    taken = [n for n in names if ModelHub.has(n)]
    if taken and len(taken) == len(names):
        return names  # registered before: idempotent
    if taken:
        warnings.warn(
            f'mmlt model index {index} not registered with mmpretrain.ModelHub: '
            f'{len(taken)} of its names are registered already (e.g. {taken[:3]})')
        return []
    ModelHub.register_model_index(index, config_prefix=prefix)
    return names

