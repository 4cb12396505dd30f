"""Every config loads, resolves its ``_base_`` chain and builds its model with mmlt registered."""
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import mmlt  # noqa: F401

CONFIGS = sorted(
    p for p in (Path(__file__).resolve().parents[1] / 'configs').rglob('*.py')
    if '_base_' not in p.parts)


def test_there_are_configs():
    assert len(CONFIGS) >= 10


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_config_builds_model(path):
    cfg = Config.fromfile(str(path))
    assert 'mmlt' in cfg.custom_imports['imports']
    init_default_scope('mmpretrain')
    # building does not load weights (the Runner's init_weights does), so stage-2 configs that
    # point at a stage-1 checkpoint build here too
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) > 0
