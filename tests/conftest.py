"""Shared test fixtures: real images from the project's shared data, unpacked once.

The archives live in ``../shared/data`` beside the checkout (override with ``MMLT_SHARED_DATA``);
they are unpacked into the ignored ``data/`` folder of the checkout (override with ``MMLT_DATA_ROOT``).
"""
import fcntl
import importlib.util
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get('MMLT_SHARED_DATA', REPO.parent / 'shared' / 'data'))
DATA = Path(os.environ.get('MMLT_DATA_ROOT', REPO / 'data'))


def _load_prepare():
    spec = importlib.util.spec_from_file_location('prepare_data', REPO / 'tools' / 'prepare_data.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _unpacked(name: str) -> Path:
    """Return ``DATA/name``, unpacking its archive from SHARED on first use (tools/prepare_data.py)."""
    prepare = _load_prepare()
    archive = next(a for a, folder in prepare.ARCHIVES.items() if folder == name)
    if not (DATA / f'.{name}.done').exists():
        if not (SHARED / archive).exists():
            pytest.skip(f'{SHARED / archive} not found (set MMLT_SHARED_DATA)')
        DATA.mkdir(parents=True, exist_ok=True)
        with open(DATA / '.lock', 'w') as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            prepare.prepare(SHARED, DATA)
    return DATA / name


@pytest.fixture(scope='session')
def cifar10_jpeg_root() -> Path:
    """``CIFAR-10-images`` with ``train/<class>/*.jpg`` and ``test/<class>/*.jpg``."""
    return _unpacked('CIFAR-10-images')


@pytest.fixture(scope='session')
def tiny_imagenet_root() -> Path:
    """``tiny-imagenet-200`` with ``wnids.txt``, ``train/<wnid>/images`` and ``val/``."""
    return _unpacked('tiny-imagenet-200')


@pytest.fixture(scope='session')
def lt_splits_root() -> Path:
    """The public ImageNet-LT / Places-LT / iNaturalist 2018 split lists (read-only)."""
    root = SHARED / 'lt_splits'
    if not root.exists():
        pytest.skip(f'{root} not found (set MMLT_SHARED_DATA)')
    return root


@pytest.fixture(autouse=True)
def _mmpretrain_scope():
    """Every test starts in the ``mmpretrain`` registry scope (a Runner of an earlier test may have
    switched the current scope, and registry look-ups such as ``MODELS.build`` follow it)."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmpretrain')
