"""Smoke tests of the benchmark scripts (tools/benchmark): each runs at a tiny size and prints a
markdown table with the expected columns and one row per measured item. No timing is asserted."""
import importlib.util
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / 'tools' / 'benchmark'
CIFAR_CFG = 'configs/dscl/dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100.py'
# the per-image reference pipeline (data_pipeline.py measures dataloader workers)
CIFAR_PER_IMAGE_CFG = 'configs/dscl/dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100_per-image.py'


def _script(name):
    spec = importlib.util.spec_from_file_location(f'bench_{name}', BENCH / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _table(text):
    """(header cells, data rows) of the markdown table in ``text``; checks its shape."""
    lines = [ln for ln in text.splitlines() if ln.startswith('|')]
    assert len(lines) >= 3, text
    header = [c.strip() for c in lines[0].strip('|').split('|')]
    assert re.fullmatch(r'\|(---\|)+', lines[1]) and lines[1].count('---') == len(header)
    rows = [[c.strip() for c in ln.strip('|').split('|')] for ln in lines[2:]]
    assert all(len(r) == len(header) for r in rows), text
    return header, rows


def _number(cell):
    return float(cell.rstrip('%'))


def _config(name):
    path = REPO / name
    return str(path) if path.is_file() else 'builtin:dscl_r32_cifar10'


def test_dscl_step_table(tmp_path, capsys):
    dscl_step = _script('dscl_step')
    out = tmp_path / 'step.md'
    text = dscl_step.main([_config(CIFAR_CFG), '--batch-size', '4', '--iters', '2',
                           '--warmup', '0', '--threads', '1', '--out', str(out)])
    assert capsys.readouterr().out.strip() == text.strip() == out.read_text().strip()
    assert 'batch 4' in text and 'L = 5 patches of 16 px' in text
    header, rows = _table(text)
    assert header == ['part', 'ms/step (mean)', 'ms/step (std)', 'share of step', 'images/s']
    names = [r[0] for r in rows]
    assert names == list(dscl_step.PARTS) + [
        'sum of the parts', 'whole step (model.loss + backward + step)']
    for row in rows:
        assert _number(row[1]) >= 0 and _number(row[2]) >= 0
    # shares are part / whole step; images/s = batch / whole-step time (tables round ms >= 100
    # to integers, hence the tolerances)
    whole_ms = _number(rows[-1][1])
    for row in rows[:-2]:
        share = 100 * _number(row[1]) / whole_ms
        assert _number(row[3]) == pytest.approx(share, rel=1e-2, abs=0.11)
    assert _number(rows[-1][4]) == pytest.approx(4e3 / whole_ms, rel=6e-3)
    assert rows[-1][3] == '100.0%' and rows[0][4] == '-'


def test_gpu_throughput_dry_run_counts_flops(capsys):
    gpu = _script('gpu_throughput')
    text = gpu.main(['--dry-run', '--modes', 'fp32'])
    assert 'DRY RUN' in text and 'ResNet-50' in text
    flops = float(re.search(r'step FLOPs .*?: ([\d.]+) GFLOP', text).group(1))
    assert flops > 1  # ResNet-50 forward + backward on 14 images of 32 px is several GFLOP
    header, rows = _table(text)
    assert header[:2] == ['mode', 'data ms'] and header[-1] == 'fraction of bf16 matmul rate'
    assert [r[0] for r in rows] == ['fp32']
    assert _number(rows[0][2]) > 0


def test_gpu_throughput_needs_cuda_without_dry_run():
    import torch
    if torch.cuda.is_available():
        pytest.skip('a GPU is present')
    gpu = _script('gpu_throughput')
    with pytest.raises(SystemExit, match='needs a CUDA GPU'):
        gpu.main([])


def test_data_pipeline_table(cifar10_jpeg_root, tmp_path):
    data = _script('data_pipeline')
    text = data.main([_config(CIFAR_PER_IMAGE_CFG), '--num-images', '12', '--batch-size', '4',
                      '--workers', '0', '1', '--data-root', str(cifar10_jpeg_root),
                      '--out', str(tmp_path / 'data.md')])
    assert '12 real images' in text and 'PBSDMultiView' in text
    header, rows = _table(text)
    assert header[0] == 'num_workers' and 'images/s (whole pass)' in header
    assert [r[0] for r in rows] == ['0', '1']
    assert all(r[1] == '12' and r[2] == '3' for r in rows)


def test_epoch_time_table(tmp_path, cifar10_jpeg_root, monkeypatch):
    monkeypatch.chdir(REPO)  # the configs name data/ relative to the repository
    epoch_time = _script('epoch_time')
    configs = ['configs/decoupled/ce_resnet32_1xb128-200e_cifar10-lt-r100.py',
               'configs/dscl/scl_r32_1xb256-coslr-200e_cifar10-lt-r100.py',
               'configs/dscl/dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100.py']
    text = epoch_time.main([str(REPO / c) for c in configs] + [
        '--batch-size', '2', '--iters', '1', '--warmup', '0', '--threads', '1',
        '--out', str(tmp_path / 't.md')])
    header, rows = _table(text)
    assert header[:3] == ['config', 'px', 'batch'] and header[5:8] == [
        'images/s', 'train images', 'min/epoch']
    assert [r[0] for r in rows] == [Path(c).stem for c in configs]
    for row in rows:
        # the real CIFAR-10-LT (IR 100) training set; minutes = images / (images/s) / 60
        assert row[1:3] == ['32', '2'] and row[6] == '12406'
        assert _number(row[7]) == pytest.approx(12406 / _number(row[5]) / 60, rel=2e-3)


def test_train_speed_table(tmp_path, cifar10_jpeg_root):
    """Real tools/train.py runs of CE, per-image reference and batched path, one step each."""
    speed = _script('train_speed')
    text = speed.main(['--methods', 'ce', '--variants', 'per-image', 'batched', '--images', '256',
                       '--warmup', '0', '--data-root', str(cifar10_jpeg_root),
                       '--out', str(tmp_path / 's.md')])
    header, rows = _table(text)
    assert header == ['method', 'variant', 'images/s', 'vs per-image']
    assert [r[:2] for r in rows] == [['ce', 'per-image'], ['ce', 'batched']]
    assert all(_number(r[2]) > 0 for r in rows) and rows[0][3] == '1'
    cfg = speed.variant_config(speed.METHODS['dscl-pbsd'], False, True, 64, cifar10_jpeg_root)
    assert cfg.train_dataloader.dataset.pipeline[1]['type'] == 'PBSDMultiView'
    assert cfg.data_preprocessor.channels_last and not cfg.train_dataloader.dataset.preload
    assert len(cfg.train_dataloader.dataset.indices) == 64
    # the CFRL image stage has no patches: its reference is the two-view MoCo v2 pipeline
    cfg = speed.variant_config(speed.METHODS['cfrl-image'], False, False, 64, cifar10_jpeg_root)
    types = [step['type'] for step in cfg.train_dataloader.dataset.pipeline]
    assert 'MultiView' in types and 'PBSDMultiView' not in types, types
    assert not cfg.data_preprocessor.views.get('num_patches')


def test_gpu_suite_dry_run_lists_runnable_steps():
    """gpu_suite.sh dry-run: the four GPU steps, with files that exist and arguments that the
    scripts accept (the run itself needs a CUDA machine)."""
    import shlex
    import subprocess
    proc = subprocess.run(['bash', str(BENCH / 'gpu_suite.sh'), 'dry-run'], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    steps = proc.stdout.strip().splitlines()
    assert len(steps) == 4
    assert '-m pytest -m cuda tests' in steps[0]
    assert 'tools/dist_train.sh' in steps[1] and '--amp bf16' in steps[1] and ' 1 ' in steps[1]
    throughput = shlex.split(steps[2])
    assert throughput[1] == 'tools/benchmark/gpu_throughput.py'
    _script('gpu_throughput').parse_args(throughput[2:])
    speed = shlex.split(steps[3])
    args = _script('train_speed').parse_args(speed[2:])
    assert args.methods == ['dscl-pbsd'] and args.images == 12406 and args.device == 'cuda'
    # the CUDA-marked tests exist and are collected
    collected = subprocess.run(['python3', '-m', 'pytest', '-m', 'cuda', '--collect-only', '-q',
                                'tests/test_cuda.py'], cwd=REPO, capture_output=True, text=True,
                               timeout=120)
    assert collected.stdout.count('test_cuda.py::') == 3, collected.stdout
