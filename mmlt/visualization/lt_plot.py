"""Per-class accuracy against training frequency, from :class:`LongTailAccuracy` CSVs.

Classes are ordered by training count (head left, tail right). One CSV: per-class accuracy as
bars (plus a moving average when there are many classes); several CSVs (methods to compare):
one moving-average line each. The training count is drawn on a secondary log-scale axis and the
Many/Medium/Few-shot ranges are shaded, each with its group's mean accuracy per method.

The figure is drawn on matplotlib's Agg canvas without pyplot, so neither the global backend nor
the global rcParams change: :func:`plot_lt_accuracy` saves it as PNG
(``tools/analysis/plot_lt_accuracy.py``), :func:`render_lt_accuracy` returns it as an RGB array
(:class:`~mmlt.engine.hooks.LongTailPlotHook` sends it to the visualizer).
"""
import csv
from pathlib import Path
from typing import Dict, Optional, Sequence, Union

import matplotlib
import matplotlib.lines
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mmlt.evaluation.metrics.long_tail_accuracy import GROUPS

GROUP_STYLE = {
    'many': ('Many-shot', '#4C72B0'),
    'medium': ('Medium-shot', '#DD8452'),
    'few': ('Few-shot', '#55A868'),
}
METHOD_COLORS = ('#1f3b73', '#c0392b', '#2e8b57', '#8e44ad', '#d35400', '#16a085')
RC_PARAMS = {'font.size': 12}

Table = Dict[str, np.ndarray]


def group_spans(groups: np.ndarray):
    """Yield ``(name, colour, lo, hi, members)`` of every non-empty shot group.

    ``groups`` holds the group of each class with the classes sorted by training count, so each
    group is one contiguous run: axis positions ``lo..hi`` (half a class beyond its first and last
    member) and the indices ``members``.
    """
    for group in GROUPS:
        members = np.flatnonzero(groups == group)
        if len(members):
            name, color = GROUP_STYLE[group]
            yield name, color, members[0] - 0.5, members[-1] + 0.5, members


def read_per_class_csv(path: Union[str, Path]) -> Table:
    """Read a CSV written by :class:`mmlt.evaluation.metrics.LongTailAccuracy`.

    Args:
        path (str | Path): The CSV.

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

    Args:
        values (np.ndarray): 1-D values, NaN for missing ones.
        window (int): Window length; an even one is widened by one so that the window is
            centred, and 1 or less returns ``values`` as they are.

    Returns:
        np.ndarray: The averages, as long as ``values``.
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


def _load(csv_paths: Sequence, labels: Optional[Sequence[str]]):
    """The tables of ``csv_paths`` and their legend names, checked to be of the same classes."""
    csv_paths = [Path(p) for p in csv_paths]
    if not csv_paths:
        raise ValueError('plot_lt_accuracy: give at least one CSV')
    labels = list(labels) if labels else [p.parent.name or p.stem for p in csv_paths]
    if len(labels) != len(csv_paths):
        raise ValueError(f'plot_lt_accuracy: {len(labels)} labels for {len(csv_paths)} CSVs')
    tables = [read_per_class_csv(p) for p in csv_paths]
    for path, table in zip(csv_paths[1:], tables[1:]):
        if not np.array_equal(table['train_count'], tables[0]['train_count']):
            raise ValueError(f'{path}: classes or training counts differ from {csv_paths[0]}')
    return tables, labels


def draw_lt_accuracy(tables: Sequence[Table],
                     labels: Sequence[str],
                     title: Optional[str] = None,
                     smooth: Optional[int] = None,
                     figsize=(13, 6),
                     dpi: int = 130) -> Figure:
    """Draw the per-class accuracy figure on an Agg canvas.

    Call it inside ``matplotlib.rc_context(RC_PARAMS)`` and render the figure inside the same
    context (:func:`plot_lt_accuracy` and :func:`render_lt_accuracy` do).

    Args:
        tables (Sequence[dict]): :func:`read_per_class_csv` tables of the same classes, one per
            method.
        labels (Sequence[str]): Legend names, one per table.
        title (str, optional): Figure title.
        smooth (int, optional): Moving-average window in classes (odd; an even one is widened
            by 1); defaults to about 1/40 of the classes (1, i.e. none, below 60 classes).
        figsize (tuple): Figure size in inches. Defaults to (13, 6).
        dpi (int): Pixels per inch. Defaults to 130.

    Returns:
        matplotlib.figure.Figure: The figure, with a ``FigureCanvasAgg``.
    """
    ref = tables[0]
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

    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
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
    for name, color, lo, hi, members in group_spans(groups):
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
    return fig


def figure_to_rgb(fig: Figure) -> np.ndarray:
    """Render a figure with an Agg canvas to an array.

    Args:
        fig (matplotlib.figure.Figure): The figure (its canvas is replaced by an Agg one if it
            has another).

    Returns:
        np.ndarray: ``(height, width, 3)`` uint8 RGB pixels.
    """
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return np.array(canvas.buffer_rgba())[..., :3]


def plot_lt_accuracy(csv_paths: Sequence,
                     labels: Optional[Sequence[str]] = None,
                     out: Union[str, Path] = 'lt_accuracy.png',
                     title: Optional[str] = None,
                     smooth: Optional[int] = None) -> Path:
    """Draw the per-class accuracy figure of per-class CSVs and save it as PNG.

    Args:
        csv_paths (Sequence): Per-class CSVs of the same classes (one per method).
        labels (Sequence[str], optional): Legend names; defaults to the CSV parent folder names.
        out (str | Path): The PNG to write. Defaults to 'lt_accuracy.png'.
        title (str, optional): Figure title.
        smooth (int, optional): Moving-average window in classes (odd; an even
            one is widened by 1); defaults to about 1/40 of the classes (1, i.e.
            none, below 60 classes).

    Returns:
        Path: ``out``.
    """
    tables, labels = _load(csv_paths, labels)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context(RC_PARAMS):
        fig = draw_lt_accuracy(tables, labels, title=title, smooth=smooth)
        fig.savefig(out)
    return out


def render_lt_accuracy(csv_paths: Sequence,
                       labels: Optional[Sequence[str]] = None,
                       title: Optional[str] = None,
                       smooth: Optional[int] = None,
                       dpi: int = 100) -> np.ndarray:
    """Draw the per-class accuracy figure of per-class CSVs as an RGB array (no file).

    Args:
        csv_paths (Sequence): Per-class CSVs of the same classes (one per method).
        labels (Sequence[str], optional): Legend names; defaults to the CSV parent folder names.
        title (str, optional): Figure title.
        smooth (int, optional): Moving-average window in classes, as in
            :func:`plot_lt_accuracy`.
        dpi (int): Pixels per inch of the 13 x 6 inch figure. Defaults to 100
            (1300 x 600 pixels).

    Returns:
        np.ndarray: ``(height, width, 3)`` uint8 RGB pixels.
    """
    tables, labels = _load(csv_paths, labels)
    with matplotlib.rc_context(RC_PARAMS):
        return figure_to_rgb(
            draw_lt_accuracy(tables, labels, title=title, smooth=smooth, dpi=dpi))


__all__ = [
    'GROUP_STYLE', 'METHOD_COLORS', 'draw_lt_accuracy', 'figure_to_rgb', 'group_spans',
    'moving_average', 'plot_lt_accuracy', 'read_per_class_csv', 'render_lt_accuracy'
]
