"""Per-class confusion matrix of a long-tailed test, classes ordered by training images.

As MMPretrain's ``tools/analysis_tools/confusion_matrix.py``, from a checkpoint (the test loop
runs with mmpretrain's :class:`~mmpretrain.evaluation.ConfusionMatrix` added to the test
evaluator) or from the predictions pickle of ``tools/test.py CONFIG CKPT --out preds.pkl``
(counted by ``ConfusionMatrix.calculate``). Long-tailed additions:

* rows (true class) and columns (predicted class) are sorted by TRAINING images, head first,
  with the Many / Medium / Few-shot boundaries (Many > 100, Medium 20-100, Few < 20 training
  images by default) marked; the training counts come from the test dataset's
  ``metainfo['class_counts']`` (mmlt datasets carry the training split's counts), else from the
  training dataset (its ``metainfo['class_counts']``, else its labels);
* ``OUT_DIR/confusion_matrix.png``: the row-normalised matrix (each row sums to 1 over the
  true class's test images), class names as ticks only up to 30 classes;
* ``OUT_DIR/confusion_matrix.csv``: the raw counts, one row per true class with its index,
  name, training count, group and number of test images, then one ``pred_<index>`` column per
  predicted class, rows and columns in the head-to-tail order of the figure;
* the head bias, printed and written to ``OUT_DIR/confusion_summary.txt``: for each shot group
  the fraction of its test images predicted as a Many-, Medium- and Few-shot class.

Example::

    # run the test loop of a checkpoint
    python tools/analysis/confusion_matrix.py \\
        configs/decoupled/crt_resnet32_1xb512-10e_cifar10-lt-r100.py \\
        work_dirs/crt/epoch_10.pth --out-dir work_dirs/crt/confusion
    # or count the predictions of `tools/test.py CONFIG CKPT --out work_dirs/crt/preds.pkl`
    python tools/analysis/confusion_matrix.py \\
        configs/decoupled/crt_resnet32_1xb512-10e_cifar10-lt-r100.py \\
        --pred work_dirs/crt/preds.pkl --include-values
"""
import argparse
import copy
import csv
import os.path as osp
import tempfile
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import matplotlib
import mmengine
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS, init_default_scope
from mmengine.runner import Runner
from mmpretrain.evaluation import ConfusionMatrix
from mmpretrain.registry import DATASETS
from mpl_toolkits.axes_grid1 import make_axes_locatable

import mmlt  # noqa: F401
from mmlt.evaluation.metrics.long_tail_accuracy import GROUPS, shot_groups
from mmlt.utils.setup_env import adapt_cfg_to_device, set_default_dataloader_cfg
from mmlt.visualization.lt_plot import group_spans

MAX_TICK_CLASSES = 30
CSV_FIELDS = ('class_index', 'class_name', 'train_count', 'group', 'num_samples')


def load_predictions(path: Union[str, Path]) -> Tuple[torch.Tensor, torch.Tensor]:
    """Read the predictions pickle of ``tools/test.py --out preds.pkl``.

    The pickle is mmengine's ``DumpResults`` output: a list with one dict per test image
    (``DataSample.to_dict()``), holding ``gt_label`` and ``pred_score`` (or ``pred_label``).

    Args:
        path (str | Path): The pickle.

    Returns:
        tuple[torch.Tensor, torch.Tensor]: ``pred``, the ``(N, C)`` scores when every sample
        has ``pred_score`` (else the ``(N, )`` predicted labels), and the ``(N, )`` true labels.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: Naming ``path``, if it is not such a list, a sample lacks a key, or the
            score sizes differ.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: predictions file not found')
    samples = mmengine.load(str(path), file_format='pkl')
    if not isinstance(samples, (list, tuple)) or not samples:
        raise ValueError(f'{path}: expected the non-empty list of per-image dicts written by '
                         f'`tools/test.py CONFIG CKPT --out {osp.basename(str(path))}`, got '
                         f'{type(samples).__name__}')
    for i, sample in enumerate(samples):
        if not isinstance(sample, dict) or 'gt_label' not in sample or not (
                'pred_score' in sample or 'pred_label' in sample):
            keys = sorted(sample) if isinstance(sample, dict) else type(sample).__name__
            raise ValueError(f'{path}: sample {i} needs gt_label and pred_score (or '
                             f'pred_label), got {keys}')
    target = torch.tensor([int(torch.as_tensor(s['gt_label']).reshape(-1)[0]) for s in samples])
    if all('pred_score' in s for s in samples):
        scores = [torch.as_tensor(s['pred_score']).reshape(-1).float() for s in samples]
        widths = sorted({len(s) for s in scores})
        if len(widths) > 1:
            raise ValueError(f'{path}: pred_score sizes differ between samples: {widths}')
        return torch.stack(scores), target
    pred = torch.tensor([int(torch.as_tensor(s['pred_label']).reshape(-1)[0]) for s in samples])
    return pred, target


def confusion_from_predictions(pred: torch.Tensor, target: torch.Tensor, num_classes: int,
                               source: str = 'predictions',
                               expected_from: str = 'the config') -> np.ndarray:
    """Count the confusion matrix with mmpretrain's ``ConfusionMatrix.calculate``.

    Args:
        pred (torch.Tensor): ``(N, C)`` scores or ``(N, )`` predicted labels.
        target (torch.Tensor): ``(N, )`` true labels.
        num_classes (int): Number of classes of the config (its training counts).
        source (str): Where the predictions come from, for the error messages.
        expected_from (str): Where ``num_classes`` comes from, for the error messages.

    Returns:
        np.ndarray: ``(C, C)`` int64 counts, row = true class, column = predicted class.

    Raises:
        ValueError: If the predictions do not have ``num_classes`` classes.
    """
    if pred.ndim == 2 and pred.size(1) != num_classes:
        raise ValueError(f'{source}: the predictions have {pred.size(1)} classes (pred_score '
                         f'size) but {expected_from} has {num_classes}')
    labels = pred if pred.ndim == 1 else pred.argmax(dim=1)
    for name, values in (('gt_label', target), ('pred_label', labels)):
        if len(values) and (int(values.min()) < 0 or int(values.max()) >= num_classes):
            raise ValueError(f'{source}: {name} {int(values.max())} outside [0, {num_classes}) '
                             f'({expected_from} has {num_classes} classes)')
    return ConfusionMatrix.calculate(pred, target, num_classes=num_classes).numpy().astype(
        np.int64)


def _without_images(dataset_cfg) -> dict:
    """A dataset config that builds without decoding images (an empty pipeline)."""
    cfg = copy.deepcopy(dict(dataset_cfg))
    if 'dataset' in cfg:  # a dataset wrapper
        cfg['dataset'] = _without_images(cfg['dataset'])
    elif 'datasets' in cfg:
        cfg['datasets'] = [_without_images(d) for d in cfg['datasets']]
    else:
        cfg['pipeline'] = []
        for key in ('preload', 'verify'):
            if key in cfg:
                cfg[key] = False
    return cfg


def build_dataset(cfg: Config, loader: str):
    """Build ``cfg[loader].dataset`` without its pipeline, or return None if it has none."""
    loader_cfg = cfg.get(loader)
    if not loader_cfg or not loader_cfg.get('dataset'):
        return None
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    return DATASETS.build(_without_images(loader_cfg['dataset']))


def train_class_counts(cfg: Config, config_path: str = 'the config',
                       test_dataset=None) -> Tuple[np.ndarray, List[str], str]:
    """The training images per class, the class names and where the counts come from.

    Looked up, first found: ``metainfo['class_counts']`` of the test dataset (mmlt datasets
    carry the training split's counts in every split), of the training dataset, then the
    training dataset's labels (``get_cat_ids``), as :class:`LongTailAccuracy` does.

    Args:
        cfg (Config): The config.
        config_path (str): The config file, for messages.
        test_dataset (optional): The built test dataset; built from
            ``cfg.test_dataloader.dataset`` (without pipeline) when not given.

    Returns:
        tuple: ``(counts, class_names, source)``: int64 counts, one name per class (the
        index when the datasets have no names) and a description of the source (e.g.
        ``"test dataset metainfo['class_counts']"``).

    Raises:
        ValueError: Naming the config, if no dataset gives the counts.
    """
    test_error = None
    if test_dataset is None:
        try:
            test_dataset = build_dataset(cfg, 'test_dataloader')
        except Exception as e:  # the training split may still give the counts
            test_error = f'test_dataloader.dataset: {type(e).__name__}: {e}'
    meta = dict(getattr(test_dataset, 'metainfo', None) or {})
    names = meta.get('classes')
    counts, source = meta.get('class_counts'), "test dataset metainfo['class_counts']"
    if counts is None:
        try:
            train = build_dataset(cfg, 'train_dataloader')
        except Exception as e:
            raise ValueError(
                f'{config_path}: cannot build the training dataset for the class counts '
                f'({type(e).__name__}: {e})' + (f'; {test_error}' if test_error else '')) from e
        if train is None:
            raise ValueError(f"{config_path}: the test dataset has no metainfo['class_counts'] "
                             'and there is no train_dataloader.dataset to count; use an mmlt '
                             'dataset or set the metainfo' +
                             (f' ({test_error})' if test_error else ''))
        names = names or train.metainfo.get('classes')
        counts = train.metainfo.get('class_counts')
        source = "training dataset metainfo['class_counts']"
        if counts is None:
            labels = [c for i in range(len(train)) for c in train.get_cat_ids(i)]
            num_classes = len(names) if names else (max(labels) + 1 if labels else 0)
            counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_classes)
            source = f'labels of the training dataset ({len(train)} images)'
    counts = np.asarray(counts, dtype=np.int64)
    if names is None or len(names) != len(counts):
        names = [str(j) for j in range(len(counts))]
    return counts, [str(n) for n in names], source


def head_first(counts: Sequence[int]) -> np.ndarray:
    """Class indices sorted by training count, head first (ties by class index)."""
    counts = np.asarray(counts)
    return np.lexsort((np.arange(len(counts)), -counts))


def group_summary(cm: np.ndarray, counts: Sequence[int], many_thr: int = 100,
                  few_thr: int = 20) -> Dict[str, dict]:
    """Where each shot group's test images are predicted.

    Args:
        cm (np.ndarray): ``(C, C)`` counts, row = true class, column = predicted class.
        counts (Sequence[int]): Training images per class.
        many_thr (int): Classes with more training images are Many-shot. Defaults to 100.
        few_thr (int): Classes with fewer training images are Few-shot. Defaults to 20.

    Returns:
        dict: For each of ``'many', 'medium', 'few'``: ``num_classes``, ``num_samples`` (test
        images), ``mean_class_acc`` (mean over the group's classes with test images of the
        per-class accuracy, a fraction; NaN without any) and ``as_many`` / ``as_medium`` /
        ``as_few`` (fraction of the group's test images predicted as a class of that group;
        NaN without test images). ``as_many`` is the head bias.
    """
    cm = np.asarray(cm)
    groups = shot_groups(counts, many_thr, few_thr)
    rows = cm.sum(1)
    summary = {}
    for group in GROUPS:
        members = groups == group
        total = int(rows[members].sum())
        present = members & (rows > 0)
        acc = np.diag(cm)[present] / rows[present]
        entry = dict(num_classes=int(members.sum()), num_samples=total,
                     mean_class_acc=float(acc.mean()) if present.any() else float('nan'))
        for target in GROUPS:
            hits = cm[np.ix_(members, groups == target)].sum()
            entry[f'as_{target}'] = float(hits / total) if total else float('nan')
        summary[group] = entry
    return summary


def format_summary(summary: Dict[str, dict], many_thr: int = 100, few_thr: int = 20) -> str:
    """The text of :func:`group_summary`: a group-to-group table and the head-bias line."""
    def pct(value):
        return '-' if np.isnan(value) else f'{100 * value:.2f}%'

    lines = [f'Shot groups by training images: Many > {many_thr}, Medium {few_thr}-{many_thr}, '
             f'Few < {few_thr}',
             'Where the test images of each group are predicted (rows: true group):',
             f'{"group":<8}{"classes":>9}{"images":>9}{"mean acc":>10}'
             f'{"-> Many":>10}{"-> Medium":>11}{"-> Few":>9}']
    for group in GROUPS:
        s = summary[group]
        lines.append(f'{group.capitalize():<8}{s["num_classes"]:>9}{s["num_samples"]:>9}'
                     f'{pct(s["mean_class_acc"]):>10}{pct(s["as_many"]):>10}'
                     f'{pct(s["as_medium"]):>11}{pct(s["as_few"]):>9}')
    bias = [f'{pct(summary[g]["as_many"])} of the {g.capitalize()}-shot'
            for g in ('medium', 'few') if summary[g]['num_samples']]
    if bias:
        lines.append('Head bias: ' + ' and '.join(bias) +
                     ' test images are predicted as a Many-shot class.')
    return '\n'.join(lines)


def write_csv(cm: np.ndarray, counts: Sequence[int], names: Sequence[str], path: Union[str, Path],
              many_thr: int = 100, few_thr: int = 20) -> Path:
    """Write the raw counts, rows and columns in head-to-tail order.

    Args:
        cm (np.ndarray): ``(C, C)`` counts, row = true class, column = predicted class.
        counts (Sequence[int]): Training images per class.
        names (Sequence[str]): Class names.
        path (str | Path): The CSV to write.
        many_thr (int): Many-shot threshold. Defaults to 100.
        few_thr (int): Few-shot threshold. Defaults to 20.

    Returns:
        Path: ``path``.
    """
    order = head_first(counts)
    groups = shot_groups(counts, many_thr, few_thr)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(list(CSV_FIELDS) + [f'pred_{j}' for j in order])
        for i in order:
            writer.writerow([int(i), names[i], int(counts[i]), groups[i], int(cm[i].sum())] +
                            [int(v) for v in cm[i, order]])
    return path


def draw_confusion_matrix(cm: np.ndarray, counts: Sequence[int],
                          names: Optional[Sequence[str]] = None, many_thr: int = 100,
                          few_thr: int = 20, include_values: bool = False,
                          cmap: str = 'viridis', title: Optional[str] = None) -> Figure:
    """Draw the row-normalised matrix, classes head first, shot-group boundaries marked.

    Args:
        cm (np.ndarray): ``(C, C)`` counts, row = true class, column = predicted class.
        counts (Sequence[int]): Training images per class.
        names (Sequence[str], optional): Class names, drawn as ticks up to 30 classes.
        many_thr (int): Many-shot threshold. Defaults to 100.
        few_thr (int): Few-shot threshold. Defaults to 20.
        include_values (bool): Write the raw counts in the cells (up to 30 classes).
            Defaults to False.
        cmap (str): Colour map. Defaults to 'viridis'.
        title (str, optional): Figure title.

    Returns:
        matplotlib.figure.Figure: The figure, on an Agg canvas (pyplot is not used).
    """
    order = head_first(counts)
    num_classes = len(order)
    matrix = np.asarray(cm)[np.ix_(order, order)]
    rows = matrix.sum(1, keepdims=True)
    norm = np.divide(matrix, rows, out=np.full(matrix.shape, np.nan), where=rows > 0)
    groups = shot_groups(np.asarray(counts)[order], many_thr, few_thr)
    small = num_classes <= MAX_TICK_CLASSES

    fig = Figure(figsize=(9.5, 8.5) if small else (11, 10), dpi=130)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    colors = matplotlib.colormaps[cmap].copy()
    colors.set_bad('0.85')  # classes without test images
    image = ax.imshow(norm, cmap=colors, vmin=0, vmax=1,
                      interpolation='nearest' if num_classes <= 300 else 'antialiased')
    divider = make_axes_locatable(ax)
    top = divider.append_axes('top', size='4%', pad=0.05)
    left = divider.append_axes('left', size='4%', pad=0.05)
    cax = divider.append_axes('right', size='4%', pad=0.1)
    fig.colorbar(image, cax=cax, label='fraction of the true class\'s test images')

    # shot-group strips along the top and the left, boundaries across the matrix
    for name, color, lo, hi, members in group_spans(groups):
        label = f'{name.split("-")[0]} ({len(members)})'
        wide = (hi - lo) / num_classes > 0.12
        top.axvspan(lo, hi, color=color)
        left.axhspan(lo, hi, color=color)
        if wide:
            top.text((lo + hi) / 2, 0.5, label, ha='center', va='center', color='white',
                     fontsize=9, fontweight='bold')
            left.text(0.5, (lo + hi) / 2, label, ha='center', va='center', color='white',
                      fontsize=9, fontweight='bold', rotation=90)
        if lo > -0.5:
            for line in (ax.axhline, ax.axvline):
                line(lo, color='white', linewidth=1.2, linestyle='--')
    top.set_xlim(-0.5, num_classes - 0.5)
    left.set_ylim(num_classes - 0.5, -0.5)
    for strip in (top, left):
        strip.set_xticks([])
        strip.set_yticks([])
        for spine in strip.spines.values():
            spine.set_visible(False)

    ticks = np.arange(num_classes)
    if small and names is not None:
        labels = [names[j] for j in order]
        ax.set_xticks(ticks, labels, rotation=45 if num_classes > 8 else 0,
                      ha='right' if num_classes > 8 else 'center', fontsize=9)
        ax.set_yticks(ticks, [''] * num_classes)
        left.set_yticks(ticks, labels, fontsize=9)
        left.set_ylim(num_classes - 0.5, -0.5)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    if include_values and small:
        for i in range(num_classes):
            for j in range(num_classes):
                if matrix[i, j]:
                    ax.text(j, i, str(matrix[i, j]), ha='center', va='center',
                            fontsize=9 if num_classes <= 12 else 6,
                            color='black' if norm[i, j] > 0.5 else 'white')
    ax.set_xlabel('predicted class (sorted by training images, head \u2192 tail)')
    left.set_ylabel('true class (sorted by training images, head \u2192 tail)')
    top.set_title(title or f'Confusion matrix, rows normalised ({num_classes} classes, '
                  f'{int(matrix.sum())} test images)', fontsize=12)
    return fig


def run_test(cfg: Config, checkpoint: str, work_dir: str):
    """Run the test loop of a checkpoint with mmpretrain's ``ConfusionMatrix`` added.

    Args:
        cfg (Config): The config (modified).
        checkpoint (str): The checkpoint to load.
        work_dir (str): The runner's work dir (logs).

    Returns:
        tuple: ``(cm, metrics, test_dataset)``: the ``(C, C)`` int64 counts, the other test
        metrics and the test dataset.
    """
    cfg.launcher = 'none'
    cfg.work_dir = work_dir
    cfg.load_from = checkpoint
    set_default_dataloader_cfg(cfg, 'test_dataloader')
    adapt_cfg_to_device(cfg)
    evaluators = cfg.get('test_evaluator') or []
    if isinstance(evaluators, dict):
        evaluators = [evaluators]
    evaluators = [e for e in evaluators if 'ConfusionMatrix' not in str(e.get('type', ''))]
    cfg.test_evaluator = evaluators + [dict(type='ConfusionMatrix')]
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    metrics = dict(runner.test())
    cm = metrics.pop('confusion_matrix/result')
    dataset = runner.test_loop.dataloader.dataset
    return torch.as_tensor(cm).numpy().astype(np.int64), metrics, dataset


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='test config file')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint to test (or give --pred)')
    parser.add_argument('--pred', help='predictions pickle of tools/test.py --out PKL')
    parser.add_argument('--out-dir', help='output folder (default: the folder of the '
                        'checkpoint or pickle)')
    parser.add_argument('--work-dir', help='work dir of the test run (default: a temporary one)')
    parser.add_argument('--include-values', action='store_true',
                        help='write the counts in the cells (up to 30 classes)')
    parser.add_argument('--cmap', default='viridis', help='colour map (default: viridis)')
    parser.add_argument('--title', help='figure title')
    parser.add_argument('--many-thr', type=int, default=100,
                        help='more training images: Many-shot (default: 100)')
    parser.add_argument('--few-thr', type=int, default=20,
                        help='fewer training images: Few-shot (default: 20)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, key=value pairs')
    args = parser.parse_args(argv)
    if (args.checkpoint is None) == (args.pred is None):
        parser.error('give either CHECKPOINT or --pred PKL')
    if args.few_thr > args.many_thr:
        parser.error(f'--few-thr {args.few_thr} > --many-thr {args.many_thr}')
    return args


def main(argv: Optional[List[str]] = None) -> dict:
    """Compute, draw and summarise the confusion matrix; errors exit with their message.

    Returns:
        dict: ``cm`` (``(C, C)`` counts, class-index order), ``counts``, ``names``,
        ``summary`` (:func:`group_summary`), ``metrics`` (the other test metrics, checkpoint
        mode) and the written ``png``, ``csv`` and ``txt`` paths.
    """
    args = parse_args(argv)
    try:
        return _main(args)
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(f'confusion_matrix.py: error: {e}') from None


def _main(args) -> dict:
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'{args.config}: config not found')
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    metrics = {}
    if args.pred:
        pred, target = load_predictions(args.pred)
        counts, names, source = train_class_counts(cfg, args.config)
        cm = confusion_from_predictions(pred, target, len(counts), args.pred,
                                        f'{args.config} ({source})')
        out_dir = args.out_dir or osp.dirname(osp.abspath(args.pred))
    else:
        if not osp.isfile(args.checkpoint):
            raise FileNotFoundError(f'{args.checkpoint}: checkpoint not found')
        with tempfile.TemporaryDirectory() as tmp:
            cm, metrics, dataset = run_test(cfg, args.checkpoint, args.work_dir or tmp)
        counts, names, source = train_class_counts(cfg, args.config, dataset)
        if len(cm) != len(counts):
            raise ValueError(f'{args.checkpoint}: the model predicts {len(cm)} classes but '
                             f'{args.config} ({source}) has {len(counts)}')
        out_dir = args.out_dir or osp.dirname(osp.abspath(args.checkpoint))

    summary = group_summary(cm, counts, args.many_thr, args.few_thr)
    text = (f'Confusion matrix of {int(cm.sum())} test images, {len(counts)} classes; '
            f'training counts: {args.config}, {source}\n' +
            format_summary(summary, args.many_thr, args.few_thr))
    if args.include_values and len(counts) > MAX_TICK_CLASSES:
        warnings.warn(f'--include-values is ignored for {len(counts)} > {MAX_TICK_CLASSES} '
                      'classes')
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = write_csv(cm, counts, names, out_dir / 'confusion_matrix.csv', args.many_thr,
                         args.few_thr)
    fig = draw_confusion_matrix(cm, counts, names, args.many_thr, args.few_thr,
                                args.include_values, args.cmap, args.title)
    png_path = out_dir / 'confusion_matrix.png'
    fig.savefig(png_path, bbox_inches='tight')
    txt_path = out_dir / 'confusion_summary.txt'
    txt_path.write_text(text + '\n')
    print(text)
    print(f'saved {png_path}, {csv_path} and {txt_path}')
    return dict(cm=cm, counts=counts, names=names, summary=summary, metrics=metrics,
                png=png_path, csv=csv_path, txt=txt_path)


if __name__ == '__main__':
    main()
