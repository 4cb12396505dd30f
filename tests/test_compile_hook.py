"""TorchCompileHook: compiled forward of a sub-module, same outputs, same checkpoint keys."""
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn

from mmlt.engine.hooks import TorchCompileHook


def test_compiled_backbone_gives_the_same_outputs_and_keys():
    torch.manual_seed(0)
    model = nn.Module()
    model.backbone = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU())
    model.head = nn.Linear(4, 2)
    keys = list(model.state_dict())
    x = torch.randn(2, 3, 8, 8)
    model.eval()
    eager = model.backbone(x)
    hook = TorchCompileHook(modules=['backbone'], options=dict(backend='eager'))
    hook.before_train(SimpleNamespace(model=model))
    assert model.backbone.forward is not nn.Sequential.forward.__get__(model.backbone)
    assert hasattr(model.backbone.forward, '_torchdynamo_orig_callable')
    torch.testing.assert_close(model.backbone(x), eager)
    assert list(model.state_dict()) == keys  # no `_orig_mod.` prefix
    with pytest.raises(ValueError, match="no sub-module 'neck'"):
        TorchCompileHook(modules='neck').before_train(SimpleNamespace(model=model))
