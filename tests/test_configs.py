"""Every config loads, resolves its ``_base_`` chain and builds a Runner with mmlt registered."""
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

import mmlt  # noqa: F401

CONFIGS = sorted(
    p for p in (Path(__file__).resolve().parents[1] / 'configs').rglob('*.py')
    if '_base_' not in p.parts)


def test_there_are_configs():
    assert len(CONFIGS) >= 10


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_config_builds_runner(path, tmp_path):
    """The config resolves its ``_base_`` chain, imports mmlt, and the Runner accepts it (model
    built, train / val / test parts consistent) as tools/train.py and tools/test.py build it.
    Dataloaders are built lazily and weights are not loaded, so no data or checkpoint is read."""
    cfg = Config.fromfile(str(path))
    assert 'mmlt' in cfg.custom_imports['imports']
    cfg.work_dir = str(tmp_path)
    cfg.launcher = 'none'
    runner = Runner.from_cfg(cfg)
    assert runner.model is not None
