"""Tests of the CIFAR ResNets (He et al. 2016, Sec. 4.2) used for CIFAR-LT."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch.nn.modules.batchnorm import _BatchNorm

from mmlt.models.backbones.resnet_cifar_lt import CifarBasicBlock, CifarResNet, PadShortcut


def num_params(module):
    return sum(p.numel() for p in module.parameters())


def bn_stats(module):
    return {k: v.clone() for k, v in module.state_dict().items() if 'running' in k}


def test_parameter_counts_match_he_et_al():
    # He et al. 2016, Table 6: ResNet-20 0.27M, ResNet-32 0.46M, ResNet-110 1.7M parameters
    # (without the 64 x 10 classifier). Exact values of this implementation (option A):
    assert num_params(CifarResNet(depth=32)) == 463504
    assert abs(num_params(CifarResNet(depth=32)) - 0.46e6) < 0.01e6
    assert num_params(CifarResNet(depth=20)) == 269072
    assert abs(num_params(CifarResNet(depth=110)) - 1.7e6) < 0.05e6
    # option B adds a 1x1 conv + BN to the two downsampling shortcuts
    extra = (16 * 32 + 2 * 32) + (32 * 64 + 2 * 64)
    assert num_params(CifarResNet(depth=32, shortcut='B')) == 463504 + extra


def test_output_shapes_and_default_last_stage():
    x = torch.randn(2, 3, 32, 32)
    outs = CifarResNet(depth=20, out_indices=(0, 1, 2))(x)
    assert isinstance(outs, tuple)
    assert [o.shape for o in outs] == [(2, 16, 32, 32), (2, 32, 16, 16), (2, 64, 8, 8)]
    outs = CifarResNet(depth=32)(x)
    assert len(outs) == 1 and outs[0].shape == (2, 64, 8, 8)
    outs = CifarResNet(depth=20, shortcut='B')(x)
    assert outs[0].shape == (2, 64, 8, 8)
    assert (outs[0] >= 0).all()  # ends with a ReLU


def test_option_a_shortcut_matches_ldam_lambda_layer():
    x = torch.randn(2, 16, 32, 32)
    planes = 32
    ref = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4), 'constant', 0)
    out = PadShortcut(16, planes, 2)(x)
    assert torch.equal(out, ref)
    assert out.shape == (2, 32, 16, 16)


def test_kaiming_fan_in_init():
    model = CifarResNet(depth=20)
    model.init_weights()
    w = model.layer3[1].conv1.weight  # fan_in = 64 * 9
    assert w.std().item() == pytest.approx(math.sqrt(2 / (64 * 9)), rel=0.05)
    assert torch.all(model.layer2[0].bn1.weight == 1)


def test_frozen_stages():
    model = CifarResNet(depth=20, frozen_stages=1)
    model.train()
    frozen = [model.conv1, model.bn1, model.layer1]
    assert all(not p.requires_grad for m in frozen for p in m.parameters())
    assert all(p.requires_grad for m in (model.layer2, model.layer3) for p in m.parameters())
    assert not model.bn1.training and not model.layer1.training
    assert model.layer2.training
    before = bn_stats(model.layer1)
    before2 = bn_stats(model.layer2)
    model(torch.randn(4, 3, 32, 32))
    after = bn_stats(model.layer1)
    assert all(torch.equal(before[k], after[k]) for k in before)
    after2 = bn_stats(model.layer2)
    assert not all(torch.equal(before2[k], after2[k]) for k in before2)


def test_norm_eval_keeps_bn_in_eval():
    model = CifarResNet(depth=20, norm_eval=True)
    model.train()
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert bns and all(not m.training for m in bns)
    assert model.layer1[0].conv1.weight.requires_grad
    before = bn_stats(model)
    model(torch.randn(4, 3, 32, 32))
    after = bn_stats(model)
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_bad_arguments_raise():
    with pytest.raises(KeyError, match='depth 18'):
        CifarResNet(depth=18)
    with pytest.raises(ValueError, match='out_indices'):
        CifarResNet(depth=20, out_indices=(3, ))
    with pytest.raises(ValueError, match='shortcut'):
        CifarResNet(depth=20, shortcut='C')


def test_zero_init_residual_makes_blocks_start_as_shortcuts():
    torch.manual_seed(0)
    net = CifarResNet(depth=20, zero_init_residual=True)
    net.init_weights()
    blocks = [m for m in net.modules() if isinstance(m, CifarBasicBlock)]
    assert len(blocks) == 9
    assert all(torch.all(b.bn2.weight == 0) for b in blocks)
    assert all(torch.all(b.bn1.weight == 1) for b in blocks)
    x = torch.randn(2, 16, 8, 8).relu()
    block = blocks[1]  # identity shortcut
    block.eval()
    torch.testing.assert_close(block(x), x)  # relu(0 * conv + x) = x for x >= 0
    plain = CifarResNet(depth=20)
    plain.init_weights()
    assert all(torch.all(m.bn2.weight == 1) for m in plain.modules()
               if isinstance(m, CifarBasicBlock))
