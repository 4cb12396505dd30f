"""Synchronised BatchNorm for any process-group backend (gloo on CPU included)."""
import torch
import torch.distributed as torch_dist
from mmengine.dist import get_world_size, is_distributed
from mmengine.registry import MODELS as MMENGINE_MODELS
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm


class _AllReduceSum(torch.autograd.Function):
    """Sum over processes; the gradient of every process's input is the sum of the gradients."""

    @staticmethod
    def forward(ctx, tensor: Tensor) -> Tensor:
        out = tensor.clone()
        torch_dist.all_reduce(out)
        return out

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        grad = grad.clone()
        torch_dist.all_reduce(grad)
        return grad


def all_reduce_sum(tensor: Tensor) -> Tensor:
    """Differentiable ``all_reduce`` (sum) over the default process group."""
    return _AllReduceSum.apply(tensor)


@MMENGINE_MODELS.register_module('AllReduceSyncBN')
class AllReduceSyncBatchNorm(_BatchNorm):
    """BatchNorm whose training statistics are those of the global batch (all processes).

    ``torch.nn.SyncBatchNorm`` (``norm_cfg=dict(type='SyncBN')``) and mmcv's ``MMSyncBN`` only
    run on GPUs. This layer computes the same thing with differentiable all-reduces
    (``all_reduce_sum``), so it runs on every backend: CPU training
    under gloo, and the tests that check a 2-process run against a 1-process run of the same
    global batch. The mean and the variance are reduced in two passes (sum, then sum of squared
    deviations from the global mean), the arithmetic of one process's BatchNorm; the gradient
    flows through both reductions, so it equals the single-process gradient of the global batch.
    On GPUs the fused ``SyncBN`` is faster; the results are the same.

    Outside training, or in a single process, it is ``nn.BatchNorm2d`` (any input of 2 or more
    dimensions, channels in dim 1). Registered in mmengine's root ``MODELS`` (every OpenMMLab
    scope finds it), for ``norm_cfg=dict(type='AllReduceSyncBN')``.

    Args:
        num_features (int): Channels.
        eps (float): Added to the variance. Defaults to 1e-5.
        momentum (float, optional): Running-statistics momentum; None for a cumulative average.
            Defaults to 0.1.
        affine (bool): Learnable scale and shift. Defaults to True.
        track_running_stats (bool): Keep running statistics. Defaults to True.
    """

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f'{type(self).__name__}: expected an input of 2 or more '
                             f'dimensions (N, C, ...), got {input.dim()}')

    def forward(self, input: Tensor) -> Tensor:
        """Normalise with the global batch statistics when training distributed."""
        self._check_input_dim(input)
        if not (self.training and is_distributed() and get_world_size() > 1):
            return super().forward(input)
        c = input.size(1)
        dims = [0] + list(range(2, input.dim()))
        shape = [1, c] + [1] * (input.dim() - 2)
        x = input.float()
        count = torch.full((1, ), input.numel() / c, dtype=x.dtype, device=x.device)
        sums = all_reduce_sum(torch.cat([x.sum(dims), count]))
        total = sums[c]
        mean = sums[:c] / total
        centred = x - mean.view(shape)
        var = all_reduce_sum(centred.pow(2).sum(dims)) / total
        out = centred * torch.rsqrt(var + self.eps).view(shape)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        if self.track_running_stats:
            self._update_running_stats(mean.detach(), var.detach(), total.item())
        return out.to(input.dtype)

    @torch.no_grad()
    def _update_running_stats(self, mean: Tensor, var: Tensor, total: float) -> None:
        """The update of ``nn.BatchNorm`` (unbiased variance) with the global statistics."""
        self.num_batches_tracked.add_(1)
        if self.momentum is None:
            factor = 1.0 / float(self.num_batches_tracked)
        else:
            factor = self.momentum
        unbiased = var * (total / max(total - 1, 1))
        self.running_mean.mul_(1 - factor).add_(mean.to(self.running_mean.dtype), alpha=factor)
        self.running_var.mul_(1 - factor).add_(unbiased.to(self.running_var.dtype), alpha=factor)
