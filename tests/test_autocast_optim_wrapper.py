"""AutocastOptimWrapper: bf16 autocast of the forward pass on CPU (and CUDA), fp32 parameters."""
import logging
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS

from mmlt.engine.optimizers import AutocastOptimWrapper


def wrapper(model, lr=0.1, **kwargs):
    return AutocastOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=lr), **kwargs)


def test_forward_runs_in_bf16_and_parameters_stay_fp32():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
    optim = wrapper(model)
    x = torch.randn(4, 8)
    with optim.optim_context(model):
        out = model(x)
    assert out.dtype == torch.bfloat16
    before = [p.detach().clone() for p in model.parameters()]
    optim.update_params(out.float().pow(2).mean())
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert all(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    # outside the context nothing is cast (the test can fail: the plain wrapper gives fp32)
    assert model(x).dtype == torch.float32
    plain = OptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    with plain.optim_context(model):
        assert model(x).dtype == torch.float32


def test_bf16_step_is_close_to_fp32_step():
    torch.manual_seed(0)
    fp32 = nn.Linear(16, 4)
    bf16 = nn.Linear(16, 4)
    bf16.load_state_dict(fp32.state_dict())
    x, y = torch.randn(32, 16), torch.randint(0, 4, (32, ))
    for model, optim in ((fp32, OptimWrapper(torch.optim.SGD(fp32.parameters(), lr=0.5))),
                         (bf16, wrapper(bf16, lr=0.5))):
        with optim.optim_context(model):
            loss = nn.functional.cross_entropy(model(x).float(), y)
        optim.update_params(loss)
    torch.testing.assert_close(bf16.weight, fp32.weight, atol=2e-2, rtol=0)


def test_built_from_config_and_bad_dtype():
    model = nn.Linear(2, 2)
    built = OPTIM_WRAPPERS.build(dict(type='AutocastOptimWrapper', optimizer=torch.optim.SGD(
        model.parameters(), lr=0.1)))
    assert isinstance(built, AutocastOptimWrapper) and built.cast_dtype is torch.bfloat16
    with pytest.raises(ValueError, match="dtype must be one of"):
        wrapper(model, dtype='float64')
    fp16 = wrapper(model, dtype='float16')
    with pytest.raises(ValueError, match='float16 autocast needs CUDA'):
        with fp16.optim_context(model):
            pass


@pytest.mark.parametrize('fast', [True, False])
def test_warns_once_where_the_cpu_has_no_fast_bf16(monkeypatch, fast):
    """An AVX2-only CPU runs bf16 autocast on reference kernels (20x slower than fp32 measured):
    the wrapper says so once, on its first CPU step, and only there."""
    import mmlt.engine.optimizers.autocast_optim_wrapper as module
    monkeypatch.setattr(module, 'cpu_has_fast_bf16', lambda: fast)
    logged = []
    monkeypatch.setattr(module, 'print_log', lambda msg, **kw: logged.append((msg, kw)))
    model = nn.Linear(4, 2)
    optim = wrapper(model)
    for _ in range(3):
        with optim.optim_context(model):
            model(torch.randn(2, 4))
    if fast:
        assert logged == []
    else:
        assert len(logged) == 1 and 'no fast bfloat16 kernels' in logged[0][0]
        assert logged[0][1]['level'] == logging.WARNING


def test_fast_bf16_query_matches_the_cpu_flags():
    """oneDNN's bf16 kernels need AVX512 BW + VL + DQ (x86 Linux: flags in /proc/cpuinfo)."""
    info = Path('/proc/cpuinfo')
    if not info.exists() or 'flags' not in info.read_text():
        pytest.skip('no x86 /proc/cpuinfo flags')
    flags = next(ln for ln in info.read_text().splitlines() if ln.startswith('flags')).split()
    from mmlt.engine.optimizers.autocast_optim_wrapper import cpu_has_fast_bf16
    assert cpu_has_fast_bf16() == all(f in flags for f in ('avx512bw', 'avx512vl', 'avx512dq'))
