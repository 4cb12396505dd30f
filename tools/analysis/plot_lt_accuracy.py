"""Plot per-class accuracy against training frequency from LongTailAccuracy CSVs.

Classes are ordered by training count (head left, tail right). One CSV: per-class accuracy as
bars (plus a moving average when there are many classes); several CSVs (methods to compare):
one moving-average line each. The training count is drawn on a secondary log-scale axis and the
Many/Medium/Few-shot ranges are shaded, each with its group's mean accuracy per method.

Example::

    python tools/analysis/plot_lt_accuracy.py \\
        work_dirs/ce/20240101_000000/per_class_accuracy.csv \\
        work_dirs/dscl/20240101_000000/per_class_accuracy.csv \\
        --labels CE DSCL --out lt_accuracy.png --title 'ImageNet-LT, ResNet-50'
"""
import argparse
import csv
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import matplotlib

matplotlib.use('Agg')
import matplotlib.lines  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

GROUPS = ('many', 'medium', 'few')
GROUP_STYLE = {
    'many': ('Many-shot', '#4C72B0'),
    'medium': ('Medium-shot', '#DD8452'),
    'few': ('Few-shot', '#55A868'),
}
METHOD_COLORS = ('#1f3b73', '#c0392b', '#2e8b57', '#8e44ad', '#d35400', '#16a085')


def read_per_class_csv(path) -> Dict[str, np.ndarray]:
    """Read a CSV written by :class:`mmlt.evaluation.metrics.LongTailAccuracy`.

    Returns:
        dict: ``class_index``, ``train_count``, ``num_samples`` (int arrays),
        ``accuracy`` (float, NaN for classes absent from the evaluation set),
        ``group`` and ``class_name`` (str arrays).
    """
    path = Path(path)
    with open(path, newline='') as f:
        rows = list(csv.DictReader(f))
    need = {'class_index', 'train_count', 'group', 'num_samples', 'accuracy'}
    if not rows or not need <= set(rows[0]):
        raise ValueError(f'{path}: expected a per-class CSV with columns {sorted(need)}')
    for lineno, row in enumerate(rows, start=2):
        if row['group'] not in GROUPS:
            raise ValueError(f"{path}:{lineno}: group {row['group']!r} not in {GROUPS}")
    return dict(
        class_index=np.array([int(r['class_index']) for r in rows]),
        class_name=np.array([r.get('class_name', '') for r in rows]),
        train_count=np.array([int(r['train_count']) for r in rows]),
        group=np.array([r['group'] for r in rows]),
        num_samples=np.array([int(r['num_samples']) for r in rows]),
        accuracy=np.array([float(r['accuracy']) if r['accuracy'] else np.nan for r in rows]),
    )


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average that ignores NaN (a window of only NaN stays NaN).

    An even ``window`` is widened by one so that the window is centred.
    """
    if window <= 1:
        return values
    window += 1 - window % 2
    valid = ~np.isnan(values)
    kernel = np.ones(window)
    total = np.convolve(np.where(valid, values, 0.0), kernel, mode='same')
    count = np.convolve(valid.astype(float), kernel, mode='same')
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(count > 0, total / count, np.nan)


def plot_lt_accuracy(csv_paths: Sequence, labels: Optional[Sequence[str]] = None,
                     out='lt_accuracy.png', title: Optional[str] = None,
                     smooth: Optional[int] = None) -> Path:
    """Draw the per-class accuracy figure and save it as PNG.

    Args:
        csv_paths (Sequence): Per-class CSVs of the same classes (one per method).
        labels (Sequence[str], optional): Legend names; defaults to the CSV parent folder names.
        out (str | Path): The PNG to write.
        title (str, optional): Figure title.
        smooth (int, optional): Moving-average window in classes (odd; an even
            one is widened by 1); defaults to about 1/40 of the classes (1, i.e.
            none, below 60 classes).

    Returns:
        Path: ``out``.
    """
    csv_paths = [Path(p) for p in csv_paths]
    if not csv_paths:
        raise ValueError('plot_lt_accuracy: give at least one CSV')
    labels = list(labels) if labels else [p.parent.name or p.stem for p in csv_paths]
    if len(labels) != len(csv_paths):
        raise ValueError(f'plot_lt_accuracy: {len(labels)} labels for {len(csv_paths)} CSVs')
    tables = [read_per_class_csv(p) for p in csv_paths]
    ref = tables[0]
    for path, table in zip(csv_paths[1:], tables[1:]):
        if not np.array_equal(table['train_count'], ref['train_count']):
            raise ValueError(f'{path}: classes or training counts differ from {csv_paths[0]}')

    order = np.lexsort((ref['class_index'], -ref['train_count']))  # head first
    counts = ref['train_count'][order]
    groups = ref['group'][order]
    accs = [t['accuracy'][order] for t in tables]
    num_classes = len(order)
    x = np.arange(num_classes)
    if smooth is None:
        smooth = max(1, round(num_classes / 40)) if num_classes >= 60 else 1
    if smooth > 1:
        smooth += 1 - smooth % 2  # odd: centred

    plt.rcParams.update({'font.size': 12})
    fig, ax = plt.subplots(figsize=(13, 6), dpi=130)
    ax.set_zorder(2)
    ax.patch.set_visible(False)  # the count axis is drawn behind the accuracies

    # training counts on a log axis, behind everything
    ax_count = ax.twinx()
    ax_count.set_zorder(1)
    (count_line, ) = ax_count.step(x, np.maximum(counts, 1), where='mid', color='0.25',
                                   linewidth=1.6, linestyle=(0, (4, 2)),
                                   label='training images (right axis, log)')
    ax_count.set_yscale('log')
    ax_count.set_ylim(0.8, max(counts.max(), 1) * 8)  # keep the head below the labels
    ax_count.set_ylabel('training images per class (log)', color='0.3')
    ax_count.tick_params(axis='y', colors='0.3')

    # group bands (contiguous: classes are sorted by count)
    header_lines = 1 + len(tables)
    top = 100 + 7 * header_lines
    for group in GROUPS:
        members = np.flatnonzero(groups == group)
        if not len(members):
            continue
        name, color = GROUP_STYLE[group]
        lo, hi = members[0] - 0.5, members[-1] + 0.5
        ax.axvspan(lo, hi, color=color, alpha=0.10, linewidth=0, zorder=0)
        if lo > -0.5:
            ax.axvline(lo, color=color, linewidth=1, linestyle='--', alpha=0.7)
        lines = [f'{name} ({len(members)} classes)']
        for i, (label, acc) in enumerate(zip(labels, accs)):
            values = acc[members]
            mean = np.nanmean(values) if (~np.isnan(values)).any() else np.nan
            ax.hlines(mean, lo, hi, linewidth=1.6, linestyles=':', zorder=4,
                      color='0.1' if len(tables) == 1 else METHOD_COLORS[i % len(METHOD_COLORS)])
            lines.append(f'{label}: {mean:.1f}%' if len(tables) > 1 else f'mean {mean:.1f}%')
        width_frac = (hi - lo) / num_classes
        ax.text((lo + hi) / 2, top - 1.5, '\n'.join(lines), ha='center', va='top',
                fontsize=11 if width_frac > 0.18 else 9, color='0.15',
                bbox=dict(boxstyle='round,pad=0.3', facecolor='white', edgecolor=color,
                          alpha=0.9))

    handles = []
    if len(tables) == 1:
        bar_colors = [GROUP_STYLE[g][1] for g in groups]
        bars = ax.bar(x, np.nan_to_num(accs[0]), width=1.0 if num_classes > 50 else 0.8,
                      color=bar_colors, alpha=0.85, linewidth=0, label='per-class accuracy')
        handles.append(bars)
        if smooth > 1:
            (line, ) = ax.plot(x, moving_average(accs[0], smooth), color='0.1', linewidth=2,
                               label=f'moving average ({smooth} classes)')
            handles.append(line)
    else:
        for i, (label, acc) in enumerate(zip(labels, accs)):
            color = METHOD_COLORS[i % len(METHOD_COLORS)]
            (line, ) = ax.plot(x, moving_average(acc, smooth), color=color, linewidth=2.2,
                               marker='o' if num_classes <= 30 else None, markersize=4,
                               label=label if smooth <= 1 else f'{label} (avg. {smooth} classes)')
            handles.append(line)
    handles.append(count_line)

    ax.set_xlim(-0.5, num_classes - 0.5)
    ax.set_ylim(0, top)
    ax.set_yticks(np.arange(0, 101, 20))
    ax.set_ylabel('top-1 accuracy per class (%)')
    ax.set_xlabel('classes sorted by training images (head \u2192 tail)')
    names = ref['class_name'][order]
    if num_classes <= 30 and all(names):
        ax.set_xticks(x, names, rotation=30 if num_classes > 10 else 0, ha='right'
                      if num_classes > 10 else 'center')
    ax.grid(axis='y', alpha=0.3)
    ax.spines['top'].set_visible(False)
    ax_count.spines['top'].set_visible(False)
    handles.append(matplotlib.lines.Line2D([], [], color='0.1', linestyle=':', linewidth=1.6,
                                           label='group mean'))
    ax.legend(handles=handles, loc='upper center', bbox_to_anchor=(0.5, -0.11),
              ncol=len(handles), frameon=False, fontsize=11)
    if title:
        ax.set_title(title, fontsize=14, pad=10)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('csv', nargs='+', help='per_class_accuracy.csv files (one per method)')
    parser.add_argument('--labels', nargs='+', help='legend names, one per CSV')
    parser.add_argument('--out', default='lt_accuracy.png', help='output PNG')
    parser.add_argument('--title', help='figure title')
    parser.add_argument('--smooth', type=int,
                        help='moving-average window in classes (default: about classes/40)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    out = plot_lt_accuracy(args.csv, args.labels, args.out, args.title, args.smooth)
    print(f'saved {out}')


if __name__ == '__main__':
    main()
