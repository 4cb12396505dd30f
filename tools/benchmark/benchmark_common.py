"""Shared helpers of the benchmark scripts (tools/benchmark/*.py).

- :func:`load_config`: an mmlt config file, or a built-in DSCL + PBSD config
  (``builtin:dscl_r32_cifar10`` / ``builtin:dscl_r50``) for when the
  project's DSCL configs are not at hand.
- :func:`build_dscl`: the model of a config, on a device, with its queue
  filled (steady-state cost of the losses).
- :func:`synthetic_batch`: query / key views, ``B * L`` patch crops and
  boxes, created on the device.
- :class:`PartTimer`: per-part wall time (``time.perf_counter``) on CPU,
  CUDA events on GPU.
- :func:`markdown_table`, :func:`emit`: print a table and optionally write
  it to a file (``--out``) so that docs/benchmarks.md can be regenerated.
"""
import contextlib
import copy
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------- configs
_CIFAR_MEAN = [125.307, 122.961, 113.8575]
_CIFAR_STD = [51.5865, 50.847, 51.255]
_IN_MEAN = [123.675, 116.28, 103.53]
_IN_STD = [58.395, 57.12, 57.375]


def _moco_view(size: int, blur: bool = True) -> List[dict]:
    """MoCo v2 augmentations (mmpretrain's imagenet_bs32_mocov2 view)."""
    view = [
        dict(type='RandomResizedCrop', scale=size,
             crop_ratio_range=(0.2, 1.), backend='pillow'),
        dict(type='RandomApply', transforms=[
            dict(type='ColorJitter', brightness=0.4, contrast=0.4,
                 saturation=0.4, hue=0.1)], prob=0.8),
        dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
             channel_weights=(0.114, 0.587, 0.2989)),
    ]
    if blur:
        view.append(dict(type='GaussianBlur', magnitude_range=(0.1, 2.0),
                         magnitude_std='inf', prob=0.5))
    return view + [dict(type='RandomFlip', prob=0.5)]


def _patch_view(blur: bool = True) -> List[dict]:
    """Per-crop augmentations of PBSD (flip, colour jitter, grey, blur)."""
    view = [dict(type='RandomFlip', prob=0.5)]
    view += _moco_view(8, blur)[1:-1]
    return view


def _builtin(name: str) -> dict:
    """DSCL + PBSD configs following mmlt/models/selfsup/dscl.py, used only
    when no config file is given (see module docstring)."""
    heads = dict(
        head=dict(type='DSCLHead', loss=dict(type='DSCLLoss', alpha=0.1),
                  temperature=0.07),
        pbsd_head=dict(type='PBSDHead', temperature=0.07, loss_weight=1.5))
    if name == 'dscl_r32_cifar10':
        model = dict(
            type='DSCL',
            backbone=dict(type='CifarResNet', depth=32),
            neck=dict(type='MoCoV2Neck', in_channels=64, hid_channels=64,
                      out_channels=128, with_avg_pool=True),
            roi_neck=dict(type='PatchRoINeck', output_size=2,
                          spatial_scale=1 / 4),
            queue_len=4096, feat_dim=128, momentum=0.001,
            data_preprocessor=dict(mean=_CIFAR_MEAN, std=_CIFAR_STD,
                                   to_rgb=True),
            **heads)
        size, patch, root = 32, 16, 'data/CIFAR-10-images'
        dataset = dict(type='CIFAR10LT', data_root=root, split='train',
                       imb_ratio=100)
        blur = False
    elif name == 'dscl_r50':
        model = dict(
            type='DSCL',
            backbone=dict(type='ResNet', depth=50, out_indices=(3, ),
                          norm_cfg=dict(type='BN'),
                          zero_init_residual=False),
            neck=dict(type='MoCoV2Neck', in_channels=2048,
                      hid_channels=2048, out_channels=128,
                      with_avg_pool=True),
            roi_neck=dict(type='PatchRoINeck', output_size=2,
                          spatial_scale=1 / 32),
            queue_len=65536, feat_dim=128, momentum=0.001,
            data_preprocessor=dict(mean=_IN_MEAN, std=_IN_STD, to_rgb=True),
            **heads)
        size, patch, root = 224, 64, 'data/imagenet'
        dataset = dict(type='ImageNetLT', data_root=root, split='train')
        blur = True
    else:
        raise ValueError(f'unknown built-in config {name!r}; use one of '
                         'builtin:dscl_r32_cifar10, builtin:dscl_r50')
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='PBSDMultiView', query_transforms=_moco_view(size, blur),
             patch_transforms=_patch_view(blur), num_patches=5,
             patch_size=patch),
        dict(type='PackInputs', algorithm_keys=['patch_boxes']),
    ]
    dataset['pipeline'] = pipeline
    return dict(
        model=model,
        default_scope='mmpretrain',
        train_dataloader=dict(
            batch_size=128 if size == 32 else 32,
            num_workers=2, drop_last=True,
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate'),
            dataset=dataset),
        optim_wrapper=dict(optimizer=dict(
            type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4)))


def load_config(path: str, cfg_options: Optional[dict] = None):
    """Config from a file or ``builtin:<name>``; registers mmlt."""
    from mmengine.config import Config
    import mmlt  # noqa: F401  (registers mmlt's modules)
    if path.startswith('builtin:'):
        cfg = Config(_builtin(path.split(':', 1)[1]))
    else:
        if not Path(path).is_file():
            raise FileNotFoundError(f'config {path} not found (or use '
                                    'builtin:dscl_r32_cifar10 / '
                                    'builtin:dscl_r50)')
        cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    from mmengine.registry import init_default_scope
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    return cfg


def find_transform(pipeline: Sequence[dict], name: str) -> Optional[dict]:
    """First transform of type ``name`` in a pipeline (searching nested
    ``transforms`` / ``query_transforms`` lists)."""
    for t in pipeline or []:
        if not isinstance(t, dict):
            continue
        if t.get('type') == name:
            return t
        for key in ('transforms', 'query_transforms'):
            inner = t.get(key)
            if isinstance(inner, (list, tuple)):
                flat = [x for x in inner if isinstance(x, dict)]
                flat += [y for x in inner if isinstance(x, (list, tuple))
                         for y in x]
                found = find_transform(flat, name)
                if found is not None:
                    return found
    return None


def train_pipeline(cfg) -> List[dict]:
    """The config's training pipeline."""
    return list(cfg.train_dataloader.dataset.get('pipeline', []))


def crop_size(pipeline: Sequence[dict]) -> Optional[int]:
    """The output size of a pipeline's first RandomResizedCrop / RandomCrop (per-image
    transforms, or kornia ones of a batched-augmentation preprocessor); None if it has neither."""
    crop = (find_transform(pipeline, 'RandomResizedCrop')
            or find_transform(pipeline, 'RandomCrop'))
    if crop is None:
        return None
    if 'size' in crop:  # kornia: size (h, w); its `scale` is the area range
        size = crop['size']
    else:  # mmpretrain: scale (RandomResizedCrop) / crop_size (RandomCrop)
        size = crop.get('scale', crop.get('crop_size'))
    return int(size[0] if isinstance(size, (tuple, list)) else size)


def batch_augments(cfg) -> Tuple[Optional[dict], List[dict]]:
    """The batched augmentation of the config's data preprocessor: its ``views``
    (``BatchAugViewsDataPreprocessor``) and its ``augments`` (``BatchAugClsDataPreprocessor``)."""
    pre = cfg.get('data_preprocessor') or cfg.model.get('data_preprocessor') or {}
    return pre.get('views'), list(pre.get('augments') or [])


def view_geometry_from(views: dict) -> Tuple[int, int, int]:
    """(image size, L, patch size) of a PBSDMultiView config dict or of the ``views`` of a
    BatchAugViewsDataPreprocessor (no patches unless it says so)."""
    batched = 'query' in views
    size = crop_size(views.get('query', []) if batched else views.get('query_transforms', []))
    return (size or 224, int(views.get('num_patches', 0 if batched else 5)),
            int(views.get('patch_size', 64)))


def views_of(cfg) -> Optional[dict]:
    """The config's multi-view settings: a PBSDMultiView transform of the training pipeline,
    or the views of a batched-augmentation preprocessor (None for single-view configs)."""
    pipeline = train_pipeline(cfg) if cfg.get('train_dataloader') else []
    return find_transform(pipeline, 'PBSDMultiView') or batch_augments(cfg)[0]


def view_geometry(cfg) -> Tuple[int, int, int]:
    """(image size, L, patch size) read from the config's views."""
    return view_geometry_from(views_of(cfg) or {})


# ---------------------------------------------------------------- model
def roi_backend_for(cfg, amp: str) -> Optional[str]:
    """The RoIAlign backend to force for ``amp``, or None.

    mmcv's compiled RoIAlign has no bfloat16 kernel (CPU or CUDA), so under
    bf16 autocast ``PatchRoINeck(backend='auto')`` would fail with mmcv's
    ops installed; torchvision's ``roi_align`` has an autocast rule (it runs
    in fp32). With ``amp == 'bf16'`` and backend ``'auto'`` this returns
    ``'torchvision'``.
    """
    roi = cfg.model.get('roi_neck')
    if amp == 'bf16' and roi and roi.get('backend', 'auto') == 'auto':
        return 'torchvision'
    return None


def build_dscl(cfg, device: str, channels_last: bool = False,
               fill_queue: bool = True, seed: int = 0, amp: str = 'fp32'):
    """Build ``cfg.model`` (a DSCL) on ``device``, in train mode, with its
    queue full of random unit keys and labels (as after the first K / B
    steps), so that the losses cost what they cost in steady state (see
    :func:`roi_backend_for` for the RoIAlign backend under bf16)."""
    from mmpretrain.registry import MODELS
    torch.manual_seed(seed)
    model_cfg = copy.deepcopy(cfg.model)
    backend = roi_backend_for(cfg, amp)
    if backend:
        model_cfg.roi_neck.backend = backend
    model = MODELS.build(model_cfg).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    model.train()
    if fill_queue:
        queue = model.queue
        num_classes = int(cfg.model.get('data_preprocessor', {}).get(
            'num_classes', 0) or 1000)
        state = queue.state_dict()
        g = torch.Generator().manual_seed(seed)
        state['feats'] = torch.nn.functional.normalize(
            torch.randn(queue.length, queue.feat_dim, generator=g), dim=1)
        state['labels'] = torch.randint(0, num_classes, (queue.length, ),
                                        generator=g)
        state['num_filled'] = torch.tensor([queue.length])
        queue.load_state_dict(
            {k: v.to(device) for k, v in state.items()})
    return model


def build_optimizer(cfg, model):
    """The config's optimizer (``optim_wrapper.optimizer``), else SGD."""
    from mmengine.registry import OPTIMIZERS
    opt = dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4)
    if cfg.get('optim_wrapper') and cfg.optim_wrapper.get('optimizer'):
        opt = dict(cfg.optim_wrapper.optimizer)
    params = [p for p in model.parameters() if p.requires_grad]
    return OPTIMIZERS.build(dict(params=params, **opt))


def synthetic_batch(batch: int, img_size: int, num_patches: int,
                    patch_size: int, device: str, num_classes: int = 10,
                    channels_last: bool = False, seed: int = 0):
    """Normalised inputs ``[q, k, crops]`` on ``device`` and data samples
    with ``gt_label`` and ``patch_boxes`` (boxes drawn like PBSDMultiView:
    area (0.05, 0.6), ratio (3/4, 4/3)), also on ``device``."""
    from mmpretrain.structures import DataSample

    from mmlt.datasets.transforms.pbsd import sample_boxes
    g = torch.Generator().manual_seed(seed)
    rng = np.random.RandomState(seed)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    views = [torch.randn(batch, 3, img_size, img_size, generator=g)
             for _ in range(2)]
    views.append(torch.randn(batch * num_patches, 3, patch_size, patch_size,
                             generator=g))
    inputs = [v.to(device).contiguous(memory_format=fmt) for v in views]
    labels = torch.randint(0, num_classes, (batch, ), generator=g)
    samples = []
    for i in range(batch):
        ds = DataSample().set_gt_label(labels[i:i + 1].to(device))
        boxes = sample_boxes((img_size, img_size), num_patches,
                             (0.05, 0.6), (3. / 4., 4. / 3.), rng=rng)
        ds.set_field(torch.from_numpy(boxes).to(device), 'patch_boxes')
        samples.append(ds)
    return inputs, samples


def autocast(device: str, amp: str):
    """``torch.autocast`` for ``amp`` in {'bf16', 'fp16'}, else a no-op."""
    if amp == 'fp32':
        return contextlib.nullcontext()
    dtype = dict(bf16=torch.bfloat16, fp16=torch.float16)[amp]
    return torch.autocast(device_type=device.split(':')[0], dtype=dtype)


# ---------------------------------------------------------------- timing
class PartTimer:
    """Times consecutive parts of one step.

    ``start()`` then ``mark(name)`` after each part, ``result()`` -> ms per
    part. On CUDA the marks are events (device time between marks, read
    after a synchronize); on CPU ``time.perf_counter``.
    """

    def __init__(self, device: str) -> None:
        self.cuda = device.startswith('cuda')
        self.names: List[str] = []
        self.marks: list = []

    def _now(self):
        if self.cuda:
            ev = torch.cuda.Event(enable_timing=True)
            ev.record()
            return ev
        return time.perf_counter()

    def start(self) -> None:
        self.names, self.marks = [], [self._now()]

    def mark(self, name: str) -> None:
        self.names.append(name)
        self.marks.append(self._now())

    def result(self) -> Dict[str, float]:
        if self.cuda:
            torch.cuda.synchronize()
            ms = [a.elapsed_time(b) for a, b in zip(self.marks, self.marks[1:])]
        else:
            ms = [(b - a) * 1e3 for a, b in zip(self.marks, self.marks[1:])]
        out: Dict[str, float] = {}
        for name, t in zip(self.names, ms):
            out[name] = out.get(name, 0.) + t
        return out


def sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def mean_std(values: Sequence[float]) -> Tuple[float, float]:
    values = list(values)
    if not values:
        return float('nan'), float('nan')
    std = statistics.stdev(values) if len(values) > 1 else 0.
    return statistics.fmean(values), std


# ---------------------------------------------------------------- output
def machine_line(device: str) -> str:
    """One line naming the machine, the device and the torch version."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    except OSError:
        pass
    import os
    text = (f'machine: {cpu}, {os.cpu_count()} logical CPUs, torch '
            f'{torch.__version__}, torch threads {torch.get_num_threads()}, '
            'load average (1, 5, 15 min) at the start '
            f'{" ".join(f"{x:.2f}" for x in os.getloadavg())}')
    if device.startswith('cuda') and torch.cuda.is_available():
        text += f', GPU {torch.cuda.get_device_name(device)}'
    return text


def markdown_table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    """A markdown table; floats are written with 4 significant digits
    (>= 100 as integers), ``None`` as ``-``."""

    def fmt(v):
        if v is None:
            return '-'
        if isinstance(v, float):
            if v != v:
                return '-'
            if abs(v) >= 100:
                return f'{v:.0f}'
            return f'{v:.4g}' if abs(v) >= 1 else f'{v:.3g}'
        return str(v)

    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + '|'.join(['---'] * len(header)) + '|']
    lines += ['| ' + ' | '.join(fmt(v) for v in row) + ' |' for row in rows]
    return '\n'.join(lines)


def emit(text: str, out: Optional[str] = None) -> str:
    """Print ``text`` and write it to ``out`` when given."""
    print(text)
    sys.stdout.flush()
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text + '\n')
    return text
