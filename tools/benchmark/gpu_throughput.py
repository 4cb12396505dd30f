"""GPU throughput of the DSCL + PBSD stage-1 step (ResNet-50 ImageNet-LT).

The step of the paper's recipe: ResNet-50 at 224 px, batch 128 per GPU,
DSCL + PBSD with L = 5 patches of 64 px, a full queue of 65,536 keys. Data
are synthetic and GPU-resident: a few packed uint8 batches (query, key,
crops, boxes) made once on the GPU, so no host loading or copy is measured.
Per iteration it times, with CUDA events:

- **data**: picking the next packed batch and the model's data preprocessor
  (uint8 -> float, BGR -> RGB, normalisation, crops flattened; plus the
  channels_last conversion in those modes);
- **model**: ``model(..., mode='loss')`` + backward + optimizer step.

for each precision mode (fp32, bf16 autocast, each with and without
channels_last), and reports images/s and peak memory. It also counts the
FLOPs of one step (forward + backward, fp32) with
``torch.utils.flop_counter.FlopCounterMode``, measures the card's bf16
matmul rate (a loop of large bf16 matmuls) and reports the fraction
``(step FLOPs / model time) / matmul rate``.

It needs CUDA; ``--dry-run`` runs everything on the CPU at a tiny size
(batch 2, 32 px views, 32 px patches, queue 1024, one iteration) to check
that the script parses, builds the model and counts FLOPs.

Example::

    python tools/benchmark/gpu_throughput.py --out work_dirs/bench/gpu.md
"""
import argparse
import gc
import sys
from pathlib import Path
from typing import List, Optional

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchmark_common as bench  # noqa: E402

DEFAULT_CONFIG = 'configs/dscl_r50_imagenet-lt.py'
MODES = {
    'fp32': ('fp32', False),
    'fp32+channels_last': ('fp32', True),
    'bf16': ('bf16', False),
    'bf16+channels_last': ('bf16', True),
}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=None,
                        help=f'DSCL ResNet-50 config (default: '
                        f'{DEFAULT_CONFIG} when present, else '
                        'builtin:dscl_r50)')
    parser.add_argument('--device', default='cuda')
    parser.add_argument('--batch-size', type=int, default=128)
    parser.add_argument('--img-size', type=int, default=224)
    parser.add_argument('--num-patches', type=int, default=5)
    parser.add_argument('--patch-size', type=int, default=64)
    parser.add_argument('--iters', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--modes', nargs='+', default=list(MODES),
                        choices=list(MODES))
    parser.add_argument('--pool', type=int, default=2,
                        help='distinct GPU-resident batches cycled through')
    parser.add_argument('--matmul-size', type=int, default=8192)
    parser.add_argument('--matmul-iters', type=int, default=50)
    parser.add_argument('--threads', type=int, default=None,
                        help='torch.set_num_threads (dry run: 1)')
    parser.add_argument('--dry-run', action='store_true',
                        help='CPU, tiny sizes, one iteration: checks that '
                        'the script works without a GPU')
    parser.add_argument('--out', default=None,
                        help='also write the table to this file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys')
    args = parser.parse_args(argv)
    if args.dry_run:
        args.device = 'cpu'
        args.batch_size, args.img_size, args.patch_size = 2, 32, 32
        args.iters, args.warmup, args.pool = 1, 0, 1
        args.matmul_size, args.matmul_iters = 256, 2
        args.threads = args.threads or 1
        args.cfg_options = dict(args.cfg_options or {})
        args.cfg_options.setdefault('model.queue_len', 1024)
    return args


def packed_batch(model, batch: int, img_size: int, num_patches: int,
                 patch_size: int, device: str, seed: int) -> dict:
    """A collated batch as the dataloader gives it (uint8 views, crops
    (B, L, 3, p, p), boxes in the data samples), already on the device."""
    _, samples = bench.synthetic_batch(batch, img_size, num_patches,
                                       patch_size, device, seed=seed)
    g = torch.Generator(device=device).manual_seed(seed)
    views = [
        torch.randint(0, 256, (batch, 3, img_size, img_size), generator=g,
                      device=device, dtype=torch.uint8) for _ in range(2)
    ]
    views.append(
        torch.randint(0, 256, (batch, num_patches, 3, patch_size, patch_size),
                      generator=g, device=device, dtype=torch.uint8))
    return dict(inputs=views, data_samples=samples)


def count_step_flops(model, data: dict, optimizer) -> int:
    """FLOPs of one fp32 step (forward + backward) by FlopCounterMode."""
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    with counter:
        batch = model.data_preprocessor(data, True)
        loss = sum(model(**batch, mode='loss').values())
        loss.backward()
    optimizer.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def matmul_rate(device: str, size: int, iters: int) -> float:
    """Measured bf16 matmul FLOP/s (``2 n^3`` per product)."""
    a = torch.randn(size, size, device=device, dtype=torch.bfloat16)
    b = torch.randn(size, size, device=device, dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    timer = bench.PartTimer(device)
    bench.sync(device)
    timer.start()
    for _ in range(iters):
        a @ b
    timer.mark('mm')
    seconds = timer.result()['mm'] / 1e3
    return 2 * size**3 * iters / seconds


def run_mode(cfg, args, amp: str, channels_last: bool):
    """(data ms list, model ms list, peak GiB) for one mode."""
    device = args.device
    model = bench.build_dscl(cfg, device, channels_last, amp=amp)
    optimizer = bench.build_optimizer(cfg, model)
    pool = [
        packed_batch(model, args.batch_size, args.img_size, args.num_patches,
                     args.patch_size, device, seed)
        for seed in range(args.pool)
    ]
    fmt = torch.channels_last if channels_last else torch.contiguous_format

    def data_part(i):
        batch = model.data_preprocessor(pool[i % len(pool)], True)
        batch['inputs'] = [
            x.contiguous(memory_format=fmt) for x in batch['inputs']
        ]
        return batch

    def model_part(batch):
        with bench.autocast(device, amp):
            loss = sum(model(**batch, mode='loss').values())
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for i in range(args.warmup):
        model_part(data_part(i))
    if device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats(device)
    data_ms, model_ms = [], []
    for i in range(args.iters):
        timer = bench.PartTimer(device)
        bench.sync(device)
        timer.start()
        batch = data_part(i)
        timer.mark('data')
        model_part(batch)
        timer.mark('model')
        result = timer.result()
        data_ms.append(result['data'])
        model_ms.append(result['model'])
    peak = (torch.cuda.max_memory_allocated(device) / 2**30
            if device.startswith('cuda') else None)
    flops = None
    if amp == 'fp32' and not channels_last:
        flops = count_step_flops(model, data_part(0), optimizer)
    del model, optimizer, pool
    gc.collect()
    if device.startswith('cuda'):
        torch.cuda.empty_cache()
    return data_ms, model_ms, peak, flops


def run(args: argparse.Namespace) -> str:
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        raise SystemExit(
            'gpu_throughput.py needs a CUDA GPU (torch.cuda.is_available() '
            'is False). Run it on a GPU machine, or use --dry-run to check '
            'the script on the CPU at a tiny size.')
    if args.threads:
        torch.set_num_threads(args.threads)
    config = args.config or (DEFAULT_CONFIG if
                             (bench.REPO / DEFAULT_CONFIG).is_file() else
                             'builtin:dscl_r50')
    if not config.startswith('builtin:') and not Path(config).is_file():
        config = str(bench.REPO / config)
    cfg = bench.load_config(config, args.cfg_options)
    machine = bench.machine_line(args.device)
    if args.device.startswith('cuda'):
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = True

    results, step_flops = {}, None
    for name in args.modes:
        amp, cl = MODES[name]
        data_ms, model_ms, peak, flops = run_mode(cfg, args, amp, cl)
        results[name] = (data_ms, model_ms, peak)
        step_flops = step_flops or flops
    if step_flops is None:  # fp32 not among the modes: count separately
        step_flops = run_mode(cfg, argparse.Namespace(
            **{**vars(args), 'iters': 0, 'warmup': 0}), 'fp32', False)[3]
    rate = matmul_rate(args.device, args.matmul_size, args.matmul_iters)

    roi_note = ''
    if bench.roi_backend_for(cfg, 'bf16') and any('bf16' in m for m in results):
        roi_note = ('; bf16 modes use the torchvision RoIAlign (mmcv\'s has '
                    'no bf16 kernel)')
    rows = []
    batch = args.batch_size
    for name, (data_ms, model_ms, peak) in results.items():
        d_mean, _ = bench.mean_std(data_ms)
        m_mean, m_std = bench.mean_std(model_ms)
        achieved = step_flops / (m_mean / 1e3)
        rows.append([
            name, d_mean, m_mean, m_std, batch * 1e3 / m_mean,
            batch * 1e3 / (m_mean + d_mean), peak, achieved / 1e12,
            f'{100 * achieved / rate:.1f}%'
        ])
    table = bench.markdown_table([
        'mode', 'data ms', 'model ms (mean)', 'model ms (std)',
        'images/s (model)', 'images/s (data + model)', 'peak memory GiB',
        'achieved TFLOP/s', 'fraction of bf16 matmul rate'
    ], rows)
    header = (
        f'DSCL + PBSD stage-1 step{" (DRY RUN, CPU, tiny sizes)" if args.dry_run else ""}: '
        f'config {config}, ResNet-{cfg.model.backbone.get("depth", "?")}, '
        f'batch {batch}, {args.img_size} px views, L = {args.num_patches} '
        f'patches of {args.patch_size} px, queue {cfg.model.queue_len}, '
        f'synthetic device-resident uint8 batches ({args.pool} cycled), '
        f'{args.iters} timed steps after {args.warmup} warm-up, '
        f'device {args.device}, TF32 off{roi_note}\n'
        f'step FLOPs (forward + backward, FlopCounterMode, fp32): '
        f'{step_flops / 1e9:.1f} GFLOP; measured bf16 matmul rate '
        f'({args.matmul_size}^2, {args.matmul_iters} products): '
        f'{rate / 1e12:.2f} TFLOP/s\n'
        f'{machine}\n')
    return bench.emit(header + '\n' + table, args.out)


def main(argv: Optional[List[str]] = None) -> str:
    return run(parse_args(argv))


if __name__ == '__main__':
    main()
