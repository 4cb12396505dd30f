"""AllReduceSyncBN: two gloo processes with half a batch each behave as one BatchNorm on the
whole batch (output, input and parameter gradients, running statistics)."""
import os
import socket

import pytest
import torch
import torch.multiprocessing as mp
from mmcv.cnn import build_norm_layer

import mmlt  # noqa: F401
from mmlt.models.utils import AllReduceSyncBatchNorm


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(8, 3, 5, 4, generator=g) * 3 + 1
    w = torch.randn(8, 3, 5, 4, generator=g)  # weights of a loss that couples the samples
    return x, w


def _step(bn, x, w):
    x = x.clone().requires_grad_(True)
    out = bn(x)
    (out * w).sum().backward()
    return out.detach(), x.grad, bn.weight.grad, bn.bias.grad


def _worker(rank, port, out_dir):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.distributed.init_process_group('gloo', rank=rank, world_size=2)
    try:
        bn = AllReduceSyncBatchNorm(3, momentum=0.3)
        with torch.no_grad():
            bn.weight.copy_(torch.tensor([1.5, 0.5, -1.]))
            bn.bias.copy_(torch.tensor([0.1, 0.2, 0.3]))
        x, w = _data()
        sl = slice(4 * rank, 4 * rank + 4)
        out, gx, gw, gb = _step(bn, x[sl], w[sl])
        # the parameter gradient of the sum of both ranks' losses (what DDP's average scales)
        torch.distributed.all_reduce(gw)
        torch.distributed.all_reduce(gb)
        torch.save(dict(out=out, gx=gx, gw=gw, gb=gb, running_mean=bn.running_mean,
                        running_var=bn.running_var, tracked=bn.num_batches_tracked),
                   os.path.join(out_dir, f'rank{rank}.pth'))
    finally:
        torch.distributed.destroy_process_group()


def test_two_processes_equal_batchnorm_on_the_whole_batch(tmp_path):
    ref = torch.nn.BatchNorm2d(3, momentum=0.3)
    with torch.no_grad():
        ref.weight.copy_(torch.tensor([1.5, 0.5, -1.]))
        ref.bias.copy_(torch.tensor([0.1, 0.2, 0.3]))
    x, w = _data()
    out, gx, gw, gb = _step(ref, x, w)

    mp.spawn(_worker, args=(_free_port(), str(tmp_path)), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f'rank{r}.pth') for r in (0, 1)]
    close = dict(rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(torch.cat([r['out'] for r in ranks]), out, **close)
    torch.testing.assert_close(torch.cat([r['gx'] for r in ranks]), gx, **close)
    for r in ranks:
        torch.testing.assert_close(r['gw'], gw, **close)
        torch.testing.assert_close(r['gb'], gb, **close)
        torch.testing.assert_close(r['running_mean'], ref.running_mean, **close)
        torch.testing.assert_close(r['running_var'], ref.running_var, **close)
        assert int(r['tracked']) == 1
    # the per-rank statistics would differ: the check is not vacuous
    half = torch.nn.BatchNorm2d(3, momentum=0.3)
    half(x[:4])
    assert not torch.allclose(half.running_mean, ref.running_mean, atol=1e-3)


def test_single_process_is_batchnorm():
    torch.manual_seed(0)
    x = torch.randn(6, 3, 4, 4)
    sync, ref = AllReduceSyncBatchNorm(3), torch.nn.BatchNorm2d(3)
    torch.testing.assert_close(sync(x), ref(x))
    torch.testing.assert_close(sync.running_var, ref.running_var)
    sync.eval(), ref.eval()
    torch.testing.assert_close(sync(x), ref(x))


def test_built_from_norm_cfg_in_any_scope():
    name, layer = build_norm_layer(dict(type='AllReduceSyncBN'), 7)
    assert isinstance(layer, AllReduceSyncBatchNorm) and name == 'bn'
    from mmpretrain.registry import MODELS
    backbone = MODELS.build(dict(type='CifarResNet', depth=20,
                                 norm_cfg=dict(type='AllReduceSyncBN')))
    bns = [m for m in backbone.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert bns and all(isinstance(m, AllReduceSyncBatchNorm) for m in bns)
    with pytest.raises(ValueError, match='2 or more'):
        layer(torch.randn(7))
