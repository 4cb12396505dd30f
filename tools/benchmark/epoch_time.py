"""How long one training epoch of a config takes on this machine, before you launch it.

For each config: builds ``cfg.model`` (an image classifier, or a DSCL / CFRL model with a full
queue), times ``model(..., mode='loss')`` + backward + optimizer step on synthetic batches of the
config's geometry (image size, and patches for PBSD), counts the training set
(``cfg.train_dataloader.dataset``, built from the real annotation files / folders) and prints
images/s, minutes per epoch and hours for the config's ``train_cfg.max_epochs``. Model time only:
the data pipeline is measured by ``data_pipeline.py``.

Example::

    python tools/benchmark/epoch_time.py \\
        configs/decoupled/ce_resnet32_1xb128-200e_cifar10-lt-r100.py \\
        configs/decoupled/ce_resnet18_1xb128-200e_tiny-imagenet-lt-r100.py --batch-size 32
"""
import argparse
import copy
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchmark_common as bench  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--batch-size', type=int, default=None,
                        help='default: the config\'s train batch size')
    parser.add_argument('--iters', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--out', default=None, help='also write the table here')
    return parser.parse_args(argv)


def image_size(cfg) -> int:
    """The training crop size of the config's pipeline (first view)."""
    views = bench.views_of(cfg)
    if views:
        return bench.view_geometry_from(views)[0]
    size = bench.crop_size(bench.train_pipeline(cfg) + bench.batch_augments(cfg)[1])
    if size is None:
        raise ValueError(f'{cfg.filename}: no RandomResizedCrop / RandomCrop in '
                         'train_dataloader.dataset.pipeline or data_preprocessor.augments to '
                         'read the image size from')
    return size


def build(cfg, device, batch, size):
    """Model, inputs and data samples for one synthetic training batch of ``size`` px."""
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample
    if cfg.model.get('queue_len'):  # DSCL / CFRL: two views (+ patches)
        _, num, patch = bench.view_geometry(cfg)
        model = bench.build_dscl(cfg, device)
        inputs, samples = bench.synthetic_batch(batch, size, num or 1, patch,
                                                device, num_classes=10)
        if not num:
            inputs = inputs[:2]
        return model, inputs, samples
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(cfg.model)).to(device).train()
    num_classes = cfg.model.head.num_classes
    inputs = torch.randn(batch, 3, size, size, device=device)
    labels = torch.randint(0, num_classes, (batch, ))
    samples = [DataSample().set_gt_label(labels[i:i + 1]) for i in range(batch)]
    return model, inputs, samples


def measure(model, inputs, samples, optimizer, device, iters, warmup):
    times = []
    for i in range(warmup + iters):
        bench.sync(device)
        t0 = time.perf_counter()
        losses = model(inputs, samples, mode='loss')
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        bench.sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    return bench.mean_std(times)


def run(args) -> str:
    from mmpretrain.registry import DATASETS
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = []
    for path in args.configs:
        cfg = bench.load_config(path)
        batch = args.batch_size or cfg.train_dataloader.batch_size
        size = image_size(cfg)
        model, inputs, samples = build(cfg, args.device, batch, size)
        optimizer = bench.build_optimizer(cfg, model)
        step, std = measure(model, inputs, samples, optimizer, args.device, args.iters,
                            args.warmup)
        num_images = len(DATASETS.build(copy.deepcopy(cfg.train_dataloader.dataset)))
        ips = batch / step
        epochs = cfg.train_cfg.get('max_epochs')
        rows.append((Path(path).stem, size, batch, step * 1e3, std * 1e3, ips,
                     num_images, num_images / ips / 60,
                     epochs, num_images / ips * epochs / 3600 if epochs else None))
    table = bench.markdown_table(
        ('config', 'px', 'batch', 'ms/step', 'std', 'images/s', 'train images', 'min/epoch',
         'recipe epochs', 'recipe hours'), rows)
    text = (f'# epoch time, model only ({args.device}, {args.iters} steps after '
            f'{args.warmup} warm-up)\n{bench.machine_line(args.device)}\n\n{table}\n')
    return bench.emit(text, args.out)


def main(argv=None):
    return run(parse_args(argv))


if __name__ == '__main__':
    main()
