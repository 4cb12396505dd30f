"""Mixed precision without a loss scaler, on CPU and CUDA alike."""
import logging
from contextlib import contextmanager
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS

DTYPES = ('bfloat16', 'float16')


def cpu_has_fast_bf16() -> bool:
    """Whether oneDNN runs bfloat16 on this CPU with its own kernels (AVX512 or newer:
    AVX512-BF16, AMX). Without them (e.g. an AVX2-only CPU) CPU bf16 autocast falls back to
    reference kernels: a DSCL + PBSD ResNet-32 step measured 4.1 images/s in bf16 against
    81 in float32 on a 2-core AVX2 CPU."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a torch without the query
        return bool(torch.cpu._is_avx512_bf16_supported())


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """:class:`OptimWrapper` whose forward pass runs under ``torch.autocast``.

    MMEngine's :class:`AmpOptimWrapper` asserts a CUDA / NPU / MLU device and
    always scales the loss. bfloat16 has float32's exponent range, so it needs
    no loss scaling, and modern CPUs (AVX512-BF16, AMX) run its matrix
    products natively (on a CPU without fast bf16 kernels, AVX2 only, it
    warns once: there bf16 is many times slower than float32). This wrapper
    autocasts the data preprocessor and the forward pass (everything inside
    :meth:`optim_context`) on whatever device the model's parameters live
    on; backward and the optimizer step are those of :class:`OptimWrapper`.
    Parameters, gradients and optimizer state stay in float32. mmlt's
    losses, RoIAlign and batched augmentations switch autocast off inside and
    compute in float32.

    ``float16`` is accepted on CUDA only, where :class:`AmpOptimWrapper`
    (with its loss scaler) is the better choice; ``tools/train.py --amp
    bf16`` selects this wrapper, ``--amp fp16`` ``AmpOptimWrapper``.

    Args:
        dtype (str | torch.dtype): ``'bfloat16'`` (default) or
            ``'float16'`` (CUDA).
        device_type (str, optional): Autocast device type; the type of the
            model's first parameter when None.
        **kwargs: Arguments of :class:`OptimWrapper` (``optimizer``,
            ``clip_grad``, ``accumulative_counts``).
    """

    def __init__(self,
                 dtype: Union[str, torch.dtype] = 'bfloat16',
                 device_type: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(dtype, torch.dtype):
            dtype = str(dtype).replace('torch.', '')
        if dtype not in DTYPES:
            raise ValueError(f'AutocastOptimWrapper: dtype must be one of {DTYPES}, '
                             f'got {dtype!r}')
        self.cast_dtype = getattr(torch, dtype)
        self.device_type = device_type
        self._checked_cpu = False

    def _device_type(self, model: nn.Module) -> str:
        if self.device_type is not None:
            return self.device_type
        param = next(model.parameters(), None)
        return 'cpu' if param is None else param.device.type

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Gradient-accumulation context of :class:`OptimWrapper`, plus autocast.

        Args:
            model (nn.Module): The model being trained.
        """
        device_type = self._device_type(model)
        if device_type == 'cpu' and self.cast_dtype is torch.float16:
            raise ValueError('AutocastOptimWrapper: float16 autocast needs CUDA and a loss '
                             "scaler (AmpOptimWrapper); use dtype='bfloat16' on CPU")
        if device_type == 'cpu' and not self._checked_cpu:
            self._checked_cpu = True
            if not cpu_has_fast_bf16():
                print_log(
                    'AutocastOptimWrapper: this CPU has no fast bfloat16 kernels (oneDNN needs '
                    'AVX512, AVX512-BF16 or AMX; torch.ops.mkldnn._is_mkldnn_bf16_supported() '
                    'is False), so bf16 autocast runs on slow reference kernels, about 20x '
                    'slower than float32 for a ResNet-32 step on an AVX2 CPU. Train in float32 '
                    '(drop --amp bf16 / the AutocastOptimWrapper) on this machine.',
                    logger='current', level=logging.WARNING)
        with super().optim_context(model), torch.autocast(device_type=device_type,
                                                          dtype=self.cast_dtype):
            yield
