"""Time the parts of one DSCL + PBSD training step.

Builds the model of an mmlt config (a ``DSCL`` with ``pbsd_head`` and
``roi_neck``), fills its queue (steady state), feeds synthetic batches that
live on the device (query view, key view, ``B * L`` patch crops, boxes) and
times:

1. **parts**, each run in isolation in the order of ``DSCL.loss`` (the same
   submodule calls, so the autograd graph and the update are those of a real
   step): query encoder forward (backbone + projection), key encoder (EMA
   update + forward), patch RoI features (RoIAlign on the query feature map +
   projection), patch crops through the query encoder, losses (DSCL + PBSD
   heads), queue update, backward + optimizer step;
2. **the whole step** through the model's real ``loss`` + backward +
   optimizer step, whose mean gives images/s.

CPU: ``time.perf_counter``; CUDA: CUDA events (device time) and peak memory.
Prints a markdown table (``--out`` also writes it to a file).

Example::

    python tools/benchmark/dscl_step.py CONFIG --device cpu --batch-size 128 \
        --iters 5 --warmup 2
"""
import argparse
import sys
from pathlib import Path
from typing import Dict, List, Optional

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchmark_common as bench  # noqa: E402

PARTS = ('query encoder (backbone + neck)', 'key encoder (EMA + forward)',
         'patches: RoIAlign + projection', 'patches: crops through encoder',
         'losses (DSCL + PBSD heads)', 'queue update',
         'backward + optimizer step')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='mmlt config file or builtin:<name> '
                        '(builtin:dscl_r32_cifar10, builtin:dscl_r50)')
    parser.add_argument('--device', default='cpu', help='cpu | cuda[:i]')
    parser.add_argument('--batch-size', type=int, default=None,
                        help='images per step (default: the config\'s '
                        'train_dataloader.batch_size)')
    parser.add_argument('--iters', type=int, default=10,
                        help='timed steps for the parts and for the whole '
                        'step each')
    parser.add_argument('--warmup', type=int, default=3,
                        help='untimed steps before each measurement')
    parser.add_argument('--amp', choices=('fp32', 'bf16', 'fp16'),
                        default='fp32', help='autocast dtype')
    parser.add_argument('--channels-last', action='store_true')
    parser.add_argument('--synthetic', action='store_true', default=True,
                        help='synthetic device-resident batches (the only '
                        'mode; data loading is benchmarked by '
                        'data_pipeline.py)')
    parser.add_argument('--img-size', type=int, default=None,
                        help='view size (default: from the config\'s '
                        'PBSDMultiView query pipeline)')
    parser.add_argument('--num-patches', type=int, default=None,
                        help='L (default: from PBSDMultiView)')
    parser.add_argument('--patch-size', type=int, default=None,
                        help='crop size (default: from PBSDMultiView)')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch.set_num_threads on CPU')
    parser.add_argument('--out', default=None,
                        help='also write the table to this file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. '
                        'model.queue_len=8192')
    return parser.parse_args(argv)


def parts_step(model, inputs, samples, optimizer, amp: str, device: str,
               timer: bench.PartTimer, scaler=None) -> None:
    """One training step split into the parts of ``DSCL.loss`` (same
    submodule calls, same order), each followed by a timer mark."""
    im_q, im_k = inputs[0], inputs[1]
    timer.start()
    with bench.autocast(device, amp):
        labels = model._labels(samples, im_q.device)
        feats_q = model.backbone(im_q)
        q = model._project(feats_q)
        timer.mark(PARTS[0])
        k = model._keys(im_k)
        queue_feats, queue_labels = model.queue.valid()
        timer.mark(PARTS[1])
        losses = {}
        if model.with_pbsd:
            crops = inputs[2]
            boxes = torch.stack(
                [torch.as_tensor(ds.patch_boxes) for ds in samples])
            batch, num = boxes.shape[:2]
            roi = model.roi_neck(feats_q[-1], boxes.to(im_q.device))
            f = model._project((roi.reshape(batch * num, -1, 1, 1), ))
            f = f.view(batch, num, -1)
            timer.mark(PARTS[2])
            e = model._project(model.backbone(crops)).view(batch, num, -1)
            timer.mark(PARTS[3])
        losses['loss_dscl'] = model.head.loss(q, k, labels, queue_feats,
                                              queue_labels)
        if model.with_pbsd:
            losses['loss_pbsd'] = model.pbsd_head.loss(f, e, k, queue_feats)
        loss = sum(losses.values())
        timer.mark(PARTS[4])
        model.queue.enqueue(k, labels if model.use_labels else None)
        timer.mark(PARTS[5])
    _backward_step(loss, optimizer, scaler)
    timer.mark(PARTS[6])


def _backward_step(loss, optimizer, scaler=None) -> None:
    if scaler is not None:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    else:
        loss.backward()
        optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def whole_step(model, inputs, samples, optimizer, amp: str, device: str,
               scaler=None) -> None:
    """The real step: ``model(..., mode='loss')`` + backward + step."""
    with bench.autocast(device, amp):
        losses = model(inputs, samples, mode='loss')
        loss = sum(losses.values())
    _backward_step(loss, optimizer, scaler)


def measure(model, inputs, samples, optimizer, amp, device, iters, warmup,
            scaler=None):
    """Interleaved measurements (so both see the same machine load): per
    iteration one step split into parts, then one whole step.

    Returns:
        tuple: ms per part ``{name: [ms, ...]}`` and ms per whole step.
    """
    for _ in range(warmup):
        parts_step(model, inputs, samples, optimizer, amp, device,
                   bench.PartTimer(device), scaler)
        whole_step(model, inputs, samples, optimizer, amp, device, scaler)
    per_part: Dict[str, List[float]] = {}
    whole: List[float] = []
    for _ in range(iters):
        timer = bench.PartTimer(device)
        bench.sync(device)
        parts_step(model, inputs, samples, optimizer, amp, device, timer,
                   scaler)
        for name, ms in timer.result().items():
            per_part.setdefault(name, []).append(ms)
        timer = bench.PartTimer(device)
        timer.start()
        whole_step(model, inputs, samples, optimizer, amp, device, scaler)
        timer.mark('step')
        whole.append(timer.result()['step'])
    return per_part, whole


def run(args: argparse.Namespace) -> str:
    """Build, measure and return the printed text (header + table)."""
    device = args.device
    if device.startswith('cuda') and not torch.cuda.is_available():
        raise SystemExit('dscl_step.py: --device cuda requested but CUDA is '
                         'not available')
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = bench.load_config(args.config, args.cfg_options)
    img_size, num_patches, patch_size = bench.view_geometry(cfg)
    img_size = args.img_size or img_size
    num_patches = args.num_patches or num_patches
    patch_size = args.patch_size or patch_size
    batch = args.batch_size or cfg.train_dataloader.batch_size
    model = bench.build_dscl(cfg, device, args.channels_last,
                             amp=args.amp)
    if not model.with_pbsd:
        raise SystemExit('dscl_step.py: the model has no pbsd_head; this '
                         'benchmark times DSCL + PBSD')
    optimizer = bench.build_optimizer(cfg, model)
    scaler = (torch.cuda.amp.GradScaler()
              if args.amp == 'fp16' and device.startswith('cuda') else None)
    num_classes = int(cfg.model.get('data_preprocessor', {}).get(
        'num_classes', 0) or 10)
    inputs, samples = bench.synthetic_batch(
        batch, img_size, num_patches, patch_size, device, num_classes,
        args.channels_last)

    machine = bench.machine_line(device)
    if device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats(device)
    parts, whole = measure(model, inputs, samples, optimizer, args.amp,
                           device, args.iters, args.warmup, scaler)
    step_ms, step_std = bench.mean_std(whole)

    rows = []
    sums = [sum(v) for v in zip(*parts.values())]
    for name in PARTS:
        mean, std = bench.mean_std(parts[name])
        rows.append([name, mean, std, f'{100 * mean / step_ms:.1f}%', None])
    mean, std = bench.mean_std(sums)
    rows.append(['sum of the parts', mean, std,
                 f'{100 * mean / step_ms:.1f}%', batch * 1e3 / mean])
    rows.append(["whole step (model.loss + backward + step)", step_ms,
                 step_std, '100.0%', batch * 1e3 / step_ms])
    table = bench.markdown_table(
        ['part', 'ms/step (mean)', 'ms/step (std)', 'share of step',
         'images/s'], rows)

    mem = ''
    if device.startswith('cuda'):
        mem = (f', peak memory '
               f'{torch.cuda.max_memory_allocated(device) / 2**30:.2f} GiB')
    model_name = (f"{cfg.model.backbone.type}-{cfg.model.backbone.depth}")
    header = (
        f'DSCL + PBSD step: config {args.config}, {model_name}, '
        f'device {device}, batch {batch}, {img_size} px views, '
        f'L = {num_patches} patches of {patch_size} px, queue '
        f'{model.queue.length}, RoIAlign backend {model.roi_neck.backend}, '
        f'{args.amp}'
        f'{", channels_last" if args.channels_last else ""}, '
        f'{args.iters} timed iterations after {args.warmup} warm-up '
        f'(each iteration: one step split into parts, then one whole step){mem}\n'
        f'{machine}\n')
    return bench.emit(header + '\n' + table, args.out)


def main(argv: Optional[List[str]] = None) -> str:
    return run(parse_args(argv))


if __name__ == '__main__':
    main()
