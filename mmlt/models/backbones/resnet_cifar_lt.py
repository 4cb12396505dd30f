"""CIFAR ResNets of He et al. (CVPR 2016, Sec. 4.2), as used for CIFAR-LT by LDAM-DRW.

The network has a 3x3 stem with 16 channels (no max-pool) followed by three stages of
``n = (depth - 2) / 6`` BasicBlocks with 16, 32 and 64 channels; stages 2 and 3 halve the
resolution, so a 32x32 image gives an ``N x 64 x 8 x 8`` feature map. ResNet-20/32/44/56/110
correspond to ``n = 3/5/7/9/18``.
"""
from typing import Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from torch.nn.modules.batchnorm import _BatchNorm

from mmpretrain.models.backbones.base_backbone import BaseBackbone
from mmpretrain.registry import MODELS


class PadShortcut(nn.Module):
    """Parameter-free "option A" shortcut: subsample by ``stride`` and zero-pad channels.

    Args:
        in_channels (int): Channels of the input.
        out_channels (int): Channels of the output (``>= in_channels``).
        stride (int): Spatial subsampling factor.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        if out_channels < in_channels:
            raise ValueError(f'PadShortcut: out_channels={out_channels} < '
                             f'in_channels={in_channels}')
        self.stride = stride
        self.pad_front = (out_channels - in_channels) // 2
        self.pad_back = out_channels - in_channels - self.pad_front

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, ::self.stride, ::self.stride]
        return F.pad(x, (0, 0, 0, 0, self.pad_front, self.pad_back))


class CifarBasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with an identity, zero-pad (A) or 1x1 conv (B) shortcut.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Stride of the first conv. Defaults to 1.
        shortcut (str): ``'A'`` (zero padding, LDAM-DRW's default) or ``'B'`` (1x1 conv + BN),
            used only when the shape changes. Defaults to ``'A'``.
        norm_cfg (dict): Normalisation layers. Defaults to ``dict(type='BN')``.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 shortcut: str = 'A',
                 norm_cfg: dict = dict(type='BN')) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, out_channels)[1]
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = build_norm_layer(norm_cfg, out_channels)[1]
        if stride == 1 and in_channels == out_channels:
            self.shortcut = nn.Identity()
        elif shortcut == 'A':
            self.shortcut = PadShortcut(in_channels, out_channels, stride)
        elif shortcut == 'B':
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                build_norm_layer(norm_cfg, out_channels)[1])
        else:
            raise ValueError(f"shortcut must be 'A' or 'B', got {shortcut!r}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


@MODELS.register_module()
class CifarResNet(BaseBackbone):
    """ResNet-{20,32,44,56,110} for 32x32 inputs (He et al. 2016, Sec. 4.2; LDAM-DRW's resnet32).

    Args:
        depth (int): ``6n + 2``; one of 20, 32, 44, 56, 110. Defaults to 32.
        in_channels (int): Input image channels. Defaults to 3.
        base_channels (int): Channels of the stem and first stage (stages use 1x, 2x, 4x).
            Defaults to 16.
        shortcut (str): ``'A'`` (zero-pad, parameter free, as LDAM-DRW) or ``'B'`` (1x1 conv +
            BN) for the shortcuts that change shape. Defaults to ``'A'``.
        out_indices (Sequence[int]): Stages (0, 1, 2) whose outputs are returned.
            Defaults to ``(2, )``, the last stage (``N x 64 x 8 x 8`` at 32 px).
        frozen_stages (int): Freeze the stem (``0``) and stages ``1..frozen_stages`` (their
            parameters get ``requires_grad=False`` and their BN layers stay in eval mode).
            ``-1`` freezes nothing. Defaults to -1.
        norm_cfg (dict): Normalisation layers (mmcv's ``build_norm_layer``), e.g.
            ``dict(type='SyncBN')`` on GPUs or ``dict(type='AllReduceSyncBN')`` on any backend.
            Defaults to ``dict(type='BN')``.
        norm_eval (bool): Keep every BN layer in eval mode during training. Defaults to False.
        zero_init_residual (bool): Start the last BN of every block at weight 0, so each
            residual block begins as its shortcut (Goyal et al. 2017; the DSCL authors'
            ResNet-50 and mmpretrain's ``ResNet`` option). Not applied when the weights come
            from a ``Pretrained`` init_cfg. Defaults to False.
        init_cfg (dict | list[dict], optional): Defaults to Kaiming-normal (fan-in, as
            ``torch.nn.init.kaiming_normal_`` in LDAM-DRW) for convs and constant 1/0 for BN.
    """

    arch_settings = {20: 3, 32: 5, 44: 7, 56: 9, 110: 18}

    def __init__(self,
                 depth: int = 32,
                 in_channels: int = 3,
                 base_channels: int = 16,
                 shortcut: str = 'A',
                 out_indices: Sequence[int] = (2, ),
                 frozen_stages: int = -1,
                 norm_cfg: dict = dict(type='BN'),
                 norm_eval: bool = False,
                 zero_init_residual: bool = False,
                 init_cfg: Union[dict, list, None] = (
                     dict(type='Kaiming', layer='Conv2d', mode='fan_in'),
                     dict(type='Constant', layer='_BatchNorm', val=1, bias=0))):
        if isinstance(init_cfg, tuple):
            init_cfg = list(init_cfg)
        super().__init__(init_cfg=init_cfg)
        if depth not in self.arch_settings:
            raise KeyError(f'CifarResNet: invalid depth {depth}, '
                           f'choose from {sorted(self.arch_settings)}')
        out_indices = tuple(out_indices)
        for i in out_indices:
            if not 0 <= i < 3:
                raise ValueError(f'CifarResNet: out_indices {out_indices} outside [0, 3)')
        if not -1 <= frozen_stages <= 3:
            raise ValueError(f'CifarResNet: frozen_stages={frozen_stages} outside [-1, 3]')
        self.depth = depth
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.zero_init_residual = zero_init_residual

        num_blocks = self.arch_settings[depth]
        self.conv1 = nn.Conv2d(in_channels, base_channels, 3, 1, 1, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, base_channels)[1]
        self.res_layers = []
        channels = base_channels
        for i in range(3):
            out_channels = base_channels * 2**i
            stride = 1 if i == 0 else 2
            blocks = [CifarBasicBlock(channels, out_channels, stride, shortcut, norm_cfg)]
            blocks += [
                CifarBasicBlock(out_channels, out_channels, 1, shortcut, norm_cfg)
                for _ in range(num_blocks - 1)
            ]
            layer_name = f'layer{i + 1}'
            self.add_module(layer_name, nn.Sequential(*blocks))
            self.res_layers.append(layer_name)
            channels = out_channels
        self.feat_dim = channels
        self._freeze_stages()

    def init_weights(self) -> None:
        """``init_cfg`` (Kaiming / constant by default), then the zero-init of the residuals."""
        super().init_weights()
        pretrained = isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained'
        if self.zero_init_residual and not pretrained:
            for m in self.modules():
                if isinstance(m, CifarBasicBlock):
                    nn.init.zeros_(m.bn2.weight)

    def _freeze_stages(self) -> None:
        """Freeze the stem and the first ``frozen_stages`` stages."""
        frozen = []
        if self.frozen_stages >= 0:
            frozen += [self.conv1, self.bn1]
        frozen += [getattr(self, f'layer{i}') for i in range(1, self.frozen_stages + 1)]
        for m in frozen:
            m.eval()
            for param in m.parameters():
                param.requires_grad = False

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Return the feature maps of the stages in ``out_indices``."""
        x = F.relu(self.bn1(self.conv1(x)))
        outs = []
        for i, layer_name in enumerate(self.res_layers):
            x = getattr(self, layer_name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def train(self, mode: bool = True) -> 'CifarResNet':
        """Set train mode, keeping frozen stages (and all BN when ``norm_eval``) in eval."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self
