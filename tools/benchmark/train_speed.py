"""End-to-end training speed of ``tools/train.py``: images/s of real iterations, data included.

For each method (CE, SCL, DSCL + PBSD, the CFRL image and patch stages on CIFAR-10-LT) and each
variant of the CPU path, a real ``tools/train.py`` run trains one epoch on the first ``--images``
training images (the config's batch size, the real JPEG files, its dataloader) and the speed is
read from mmengine's per-iteration ``time`` (``vis_data/scalars.json``: data loading,
preprocessing, forward, backward and optimizer step; logged unsmoothed,
``log_processor.window_size=1``), skipping the first ``--warmup`` iterations (start-up,
compilation).

Variants (each optimisation separately, then together):

* ``per-image``: the per-image reference pipeline in dataloader workers, fp32 (mmlt before the fast
  path);
* ``per-image + channels_last`` / ``per-image + bf16``: one optimisation each;
* ``batched``: images decoded once, views drawn in batches on the model's device, fp32;
* ``batched + channels_last`` (+ ``compile``): the fp32 path, for CPUs without fast bf16 kernels
  (AVX2 only, where bf16 autocast is slower than fp32);
* ``batched + channels_last + bf16``;
* ``batched + channels_last + bf16 + compile`` (``tools/train.py --compile``);
* ``..., x2 single-thread``: two runs side by side with one thread each (images/s of the two
  summed): what a 2-core CPU trains when two experiments share it;
* ``..., malloc defaults``: with glibc's default malloc (``MMLT_RETAIN_FREED_MEMORY=0``) instead of
  the freed memory that ``tools/train.py`` keeps for reuse
  (:func:`mmlt.utils.setup_env.retain_freed_memory`), every other variant's setting.

Example::

    python tools/benchmark/train_speed.py --methods ce dscl-pbsd --out docs/train_speed.md
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchmark_common as bench  # noqa: E402

METHODS = {
    'ce': 'configs/decoupled/ce_resnet32_1xb128-200e_cifar10-lt-r100.py',
    'scl': 'configs/dscl/scl_r32_1xb256-coslr-200e_cifar10-lt-r100.py',
    'dscl-pbsd': 'configs/dscl/dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100.py',
    'cfrl-image': 'configs/cfrl/cfrl-image_r32_1xb256-coslr-200e_cifar10-lt-r100.py',
    'cfrl-patch': 'configs/cfrl/cfrl-patch_r32_1xb256-coslr-100e_cifar10-lt-r100.py',
}
# name -> (batched, channels_last, bf16, compile, side-by-side runs)
VARIANTS = {
    'per-image': (False, False, False, False, 1),
    'per-image + channels_last': (False, True, False, False, 1),
    'per-image + bf16': (False, False, True, False, 1),
    'batched': (True, False, False, False, 1),
    'batched + channels_last': (True, True, False, False, 1),
    'batched + channels_last + compile': (True, True, False, True, 1),
    'batched + channels_last + bf16': (True, True, True, False, 1),
    'batched + channels_last + bf16 + compile': (True, True, True, True, 1),
    'batched + channels_last + bf16, x2 single-thread': (True, True, True, False, 2),
    'batched + channels_last + bf16 + compile, x2 single-thread': (True, True, True, True, 2),
    'batched + channels_last, malloc defaults': (True, True, False, False, 1),
    'batched + channels_last + bf16, malloc defaults': (True, True, True, False, 1),
}
MALLOC_DEFAULTS = {name for name in VARIANTS if name.endswith('malloc defaults')}


def variant_config(path: str, batched: bool, channels_last: bool, num_images: int, data_root):
    """The config of one variant, from a method's (batched) config."""
    from mmengine.config import Config
    cfg = Config.fromfile(str(ROOT / path))
    pre = cfg.data_preprocessor
    views = pre.get('views')
    loader = cfg.train_dataloader
    if not batched:
        if views is not None:  # the per-image multi-view pipelines of the dataset base
            loader.dataset.pipeline = (cfg.train_pipeline if views.get('num_patches')
                                       else cfg.mocov2_train_pipeline)
        else:
            loader.dataset.pipeline = cfg.train_pipeline
            pre.augments = []  # the per-image pipeline crops and flips
        loader.dataset.preload = False
        loader.num_workers = 2
        loader.persistent_workers = True
    pre.channels_last = channels_last
    loader.dataset.indices = spread_indices(loader.dataset, num_images)
    if data_root:
        loader.dataset.data_root = str(data_root)
    cfg.train_cfg.max_epochs = 1
    cfg.train_cfg.pop('val_interval', None)
    for key in ('val_dataloader', 'val_evaluator', 'val_cfg'):
        cfg[key] = None
    cfg.default_hooks.logger.interval = 1
    cfg.log_processor = dict(cfg.get('log_processor') or {}, window_size=1)  # raw, not smoothed
    cfg.default_hooks.checkpoint = dict(type='AtomicCheckpointHook', interval=1000, save_last=False)
    if cfg.model.get('init_cfg'):  # CFRL stage 1b starts from stage 1a: not needed for speed
        cfg.model.init_cfg = None
    return cfg


def spread_indices(dataset_cfg, num: int):
    """Every k-th image of the long-tailed training list (all classes, in their proportions)."""
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import DATASETS
    import mmlt  # noqa: F401
    init_default_scope('mmpretrain')
    full = dict(dataset_cfg, pipeline=[], preload=False)
    full.pop('indices', None)
    total = len(DATASETS.build(full))
    return list(range(0, total, max(total // num, 1)))[:num]


def iteration_times(work_dir: Path):
    """Per-iteration ``time`` of a run, from mmengine's scalars.json."""
    scalars = sorted(work_dir.glob('*/vis_data/scalars.json'))
    if not scalars:
        raise FileNotFoundError(f'{work_dir}: no */vis_data/scalars.json')
    rows = [json.loads(line) for line in scalars[-1].read_text().splitlines() if line.strip()]
    return [r['time'] for r in rows if 'time' in r]


def measure(method: str, variant: str, args, tmp: Path) -> float:
    """Images/s of one method and variant (summed over side-by-side runs)."""
    batched, channels_last, bf16, compile_, pair = VARIANTS[variant]
    cfg = variant_config(METHODS[method], batched, channels_last, args.images, args.data_root)
    batch = cfg.train_dataloader.batch_size
    procs = []
    for run in range(pair):
        work_dir = tmp / f'{method}-{len(list(tmp.iterdir()))}'
        work_dir.mkdir()
        cfg_file = work_dir / 'config.py'
        cfg.dump(str(cfg_file))
        cmd = [args.python, str(ROOT / 'tools/train.py'), str(cfg_file), '--work-dir',
               str(work_dir)] + (['--amp', 'bf16'] if bf16 else []) + (
                   ['--compile'] if compile_ else [])
        env = dict(os.environ)
        if pair > 1:
            env.update(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
        if variant in MALLOC_DEFAULTS:
            env['MMLT_RETAIN_FREED_MEMORY'] = '0'
        procs.append((work_dir, subprocess.Popen(cmd, cwd=ROOT, env=env,
                                                 stdout=subprocess.PIPE,
                                                 stderr=subprocess.STDOUT, text=True)))
    total = 0.
    for work_dir, proc in procs:
        out, _ = proc.communicate()
        if proc.returncode:
            raise RuntimeError(f'{method} / {variant} failed:\n{out[-3000:]}')
        times = iteration_times(work_dir)[args.warmup:]
        if not times:
            raise RuntimeError(f'{method} / {variant}: no iteration after {args.warmup} '
                               f'warm-up ones; use more --images')
        total += batch * len(times) / sum(times)
    return total


def run(args) -> str:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for method in args.methods:
            speeds = {}
            for variant in args.variants:
                speeds[variant] = measure(method, variant, args, Path(tmp))
                print(f'{method:12s} {variant:60s} {speeds[variant]:8.1f} images/s', flush=True)
            base = speeds.get('per-image')
            rows += [(method, v, ips, ips / base if base else None) for v, ips in speeds.items()]
    table = bench.markdown_table(('method', 'variant', 'images/s', 'vs per-image'), rows)
    text = (f'# training speed, end to end (tools/train.py, one epoch of the first {args.images} '
            f'CIFAR-10-LT training images, first {args.warmup} iterations skipped)\n'
            f'{bench.machine_line(args.device)}\n\n{table}\n')
    return bench.emit(text, args.out)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--methods', nargs='+', choices=list(METHODS), default=list(METHODS))
    parser.add_argument('--variants', nargs='+', choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument('--images', type=int, default=2048,
                        help='training images per run (default 2048: 8 steps at batch 256)')
    parser.add_argument('--warmup', type=int, default=2, help='iterations not timed')
    parser.add_argument('--data-root', help="the CIFAR-10 JPEG release (default: the config's)")
    parser.add_argument('--device', default='cpu',
                        help='for the machine line (tools/train.py uses CUDA when present)')
    parser.add_argument('--python', default=sys.executable)
    parser.add_argument('--out', help='also write the table here')
    return parser.parse_args(argv)


def main(argv=None):
    return run(parse_args(argv))


if __name__ == '__main__':
    main()
