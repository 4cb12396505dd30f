"""Plot training curves and compute the training time of mmlt runs from MMEngine's scalars.

Reads ``<work_dir>/<timestamp>/vis_data/scalars.json`` (one JSON object per line, written by
MMEngine's ``LocalVisBackend``): training records (``loss``, ``loss_dscl``, ``loss_pbsd``, ``lr``,
``time``, ``data_time``, ``epoch``, ``iter``, ``step``) and evaluation records (``accuracy/top1``,
``accuracy/many``, ``accuracy/medium``, ``accuracy/few``, ``accuracy/mean_class``, ``step``).
Test records (``test/accuracy/top1`` ..., sent by ``LongTailPlotHook`` when ``tools/test.py``
runs in the work dir) are kept apart from the validation curves. A key may be given by its last
part (``top1`` for ``accuracy/top1``) when that is unambiguous.

A RUN is a work dir (all its ``*/vis_data/scalars.json``, in time order), one timestamp folder,
a ``vis_data`` folder or a JSON file. The folders of a resumed run are joined: a later folder
supersedes the records of the earlier ones from its first step on (the steps it re-ran), so a
re-run step keeps its last record, and a run restarted from scratch in the same work dir keeps
only its latest folder.

Sub-commands, as MMPretrain's ``tools/analysis_tools/analyze_logs.py``:

* ``plot_curve``: one panel per key, the runs overlaid; training keys against the iteration,
  evaluation keys against the epoch (or the iteration for iteration-based training);
* ``cal_train_time``: average seconds per iteration, slowest / fastest epoch and, with
  ``--batch-size``, images per second.

Example::

    python tools/analysis/analyze_logs.py plot_curve \\
        work_dirs/ce work_dirs/dscl-pbsd --keys loss top1 few \\
        --legend CE DSCL+PBSD --out curves.png
    python tools/analysis/analyze_logs.py cal_train_time work_dirs/dscl-pbsd --batch-size 256
"""
import argparse
import json
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mmlt.visualization.lt_plot import METHOD_COLORS

SCALARS = 'scalars.json'
# keys of a record that are positions, not values to plot
POSITION_KEYS = ('step', 'epoch', 'iter')
TEST_PREFIX = 'test/'
PHASES = ('train', 'val', 'test')


def read_scalars(path) -> List[dict]:
    """Read one ``scalars.json`` (JSON lines).

    A truncated last line (a run killed while writing it) is left out with a warning; any other
    line that is not a JSON object is an error.

    Args:
        path (str | Path): The JSON-lines file.

    Returns:
        list[dict]: The records in file order.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: ``'{path}:{line}: ...'`` for a line that is not a JSON object, or a record
            without ``step``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'{path}: scalars file not found')
    lines = path.read_text(encoding='utf-8').splitlines()
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    records = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            if i == last:
                warnings.warn(f'{path}:{i + 1}: truncated last line left out ({e})')
                continue
            raise ValueError(f'{path}:{i + 1}: not a JSON object ({e})') from None
        if not isinstance(record, dict):
            raise ValueError(f'{path}:{i + 1}: expected a JSON object, got {line[:60]!r}')
        if 'step' not in record:
            raise ValueError(f'{path}:{i + 1}: record without "step": {line[:80]!r}')
        records.append(record)
    return records


def record_phase(record: dict) -> str:
    """``'train'`` for a record of a training iteration (it has ``lr`` or ``iter``), ``'test'``
    for test metrics (keys prefixed ``test/``), else ``'val'``."""
    if 'lr' in record or 'iter' in record:
        return 'train'
    return 'test' if any(k.startswith(TEST_PREFIX) for k in record) else 'val'


def find_scalars(path) -> List[Path]:
    """The ``scalars.json`` files of a run, oldest first.

    Args:
        path (str | Path): A JSON file, a ``vis_data`` folder, a timestamp folder (with
            ``vis_data/scalars.json``) or a work dir (its ``*/vis_data/scalars.json``, sorted by
            the ``YYYYMMDD_HHMMSS`` folder names, i.e. in time order).

    Returns:
        list[Path]: At least one file.

    Raises:
        FileNotFoundError: If nothing is found.
    """
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f'{path}: no such file or folder')
    for candidate in (path / SCALARS, path / 'vis_data' / SCALARS):
        if candidate.is_file():
            return [candidate]
    found = sorted(path.glob(f'*/vis_data/{SCALARS}'), key=lambda p: p.parent.parent.name)
    if not found:
        raise FileNotFoundError(f'{path}: no {SCALARS}, vis_data/{SCALARS} or '
                                f'*/vis_data/{SCALARS} in this folder')
    return found


class RunLog:
    """The training and evaluation records of one run, its folders joined.

    Args:
        files (Sequence[Path]): The ``scalars.json`` files of the run, oldest first.
        name (str, optional): Legend name. Defaults to the work dir's name.

    Attributes:
        train (list[dict]): Training records, ordered by step.
        val (list[dict]): Evaluation (validation) records, ordered by step.
        test (list[dict]): Test records (``test/...`` keys), ordered by step.
        segment_starts (list[int]): First training step of every folder whose training records
            are kept (the first one, then where the run was resumed).
        by_epoch (bool): Whether training was epoch-based (evaluation steps are epochs then).
    """

    def __init__(self, files: Sequence[Path], name: Optional[str] = None) -> None:
        self.files = [Path(f) for f in files]
        self.name = name or _run_name(self.files[-1])
        self.train: List[dict] = []
        self.val: List[dict] = []
        self.test: List[dict] = []
        self.segment_starts: List[int] = []
        for path in self.files:
            self._join(read_scalars(path))
        self.by_epoch = bool(self.train) and all('epoch' in r for r in self.train)

    @property
    def resumed_at(self) -> List[int]:
        """The training steps where a kept folder resumed the run."""
        return self.segment_starts[1:]

    def _join(self, records: List[dict]) -> None:
        """Append one folder's records; they supersede the kept ones from their first step."""
        train, val, test = ([r for r in records if record_phase(r) == phase] for phase in PHASES)
        if train:
            first = train[0]['step']
            self.train = [r for r in self.train if r['step'] < first] + train
            self.segment_starts = [s for s in self.segment_starts if s < first] + [first]
            # evaluations after the resume point were re-run (or are of a superseded run);
            # epoch-based training logs evaluations by epoch, iteration-based by iteration
            start = train[0]['epoch'] if 'epoch' in train[0] else first
            self.val = [r for r in self.val if r['step'] < start]
        # evaluations of a folder without training (or re-run ones): a step keeps its last record
        self.val = self._replace(self.val, val)
        self.test = self._replace(self.test, test)

    @staticmethod
    def _replace(kept: List[dict], new: List[dict]) -> List[dict]:
        steps = {r['step'] for r in new}
        return sorted([r for r in kept if r['step'] not in steps] + new, key=lambda r: r['step'])

    def keys(self) -> Tuple[List[str], List[str], List[str]]:
        """The training, evaluation and test keys (positions such as ``step`` left out)."""
        def collect(records):
            seen = {}
            for r in records:
                seen.update(dict.fromkeys(k for k in r if k not in POSITION_KEYS))
            return list(seen)
        return collect(self.train), collect(self.val), collect(self.test)

    def resolve(self, key: str) -> Tuple[str, str]:
        """Find a key: exact, or by its last ``/`` part (``top1`` -> ``accuracy/top1``).

        A key of several kinds of records (``time``, ``data_time``) is the training one; a
        short key matches a test key (``test/accuracy/top1``) only when no training or
        evaluation key matches.

        Returns:
            tuple[str, str]: ``('train' | 'val' | 'test', full key)``.

        Raises:
            ValueError: If the key is absent or ambiguous; the message names the files and
                lists the keys that exist.
        """
        keys = dict(zip(PHASES, self.keys()))
        for phase in PHASES:
            if key in keys[phase]:
                return phase, key
        files = ', '.join(str(f) for f in self.files)
        for phases in (('train', 'val'), ('test', )):
            matches = [(p, k) for p in phases for k in keys[p] if k.split('/')[-1] == key]
            if len(matches) == 1:
                return matches[0]
            if matches:
                raise ValueError(f'key "{key}" is ambiguous in {files}: it may be any of '
                                 f'{[k for _, k in matches]}; give the full key')
        raise ValueError(f'key "{key}" is not in {files}; training keys: '
                         f'{", ".join(keys["train"]) or "none"}; evaluation keys: '
                         f'{", ".join(keys["val"]) or "none"}' +
                         (f'; test keys: {", ".join(keys["test"])}' if keys['test'] else ''))

    def series(self, key: str) -> Tuple[np.ndarray, np.ndarray, str]:
        """The values of a key against its x axis.

        Args:
            key (str): A training or evaluation key (see :meth:`resolve`).

        Returns:
            tuple: ``(x, y, x_label)``; x is the iteration for training keys, the epoch (or the
            iteration, for iteration-based training) for evaluation keys.
        """
        phase, full = self.resolve(key)
        records = [r for r in getattr(self, phase) if full in r]
        x = np.array([r['step'] for r in records], dtype=float)
        y = np.array([np.nan if r[full] is None else r[full] for r in records], dtype=float)
        if phase == 'train':
            label = 'iteration'
        elif phase == 'test' or not self.train:
            label = 'step'  # a test outside training is logged at step 0
        else:
            label = 'epoch' if self.by_epoch else 'iteration'
        return x, y, label


def _run_name(path: Path) -> str:
    """``work_dirs/<run>/<timestamp>/vis_data/scalars.json`` -> ``<run>``."""
    if path.parent.name == 'vis_data' and len(path.parents) >= 3:
        return path.parents[2].name or path.stem
    return path.stem


def load_run(path, name: Optional[str] = None) -> RunLog:
    """Load a run from a work dir, timestamp folder, ``vis_data`` folder or JSON file.

    Args:
        path (str | Path): See :func:`find_scalars`.
        name (str, optional): Legend name. Defaults to the work dir's name.

    Returns:
        RunLog: The run.
    """
    return RunLog(find_scalars(path), name)


def plot_curve(runs: Sequence[RunLog], keys: Sequence[str], out='curves.png',
               legend: Optional[Sequence[str]] = None, title: Optional[str] = None) -> Path:
    """Draw one panel per key with every run overlaid and save it as PNG.

    Training keys are drawn against the iteration, with a dotted line where a run was resumed;
    evaluation keys against the epoch (iteration-based training: the iteration).

    Args:
        runs (Sequence[RunLog]): The runs.
        keys (Sequence[str]): Training or evaluation keys (see :meth:`RunLog.resolve`).
        out (str | Path): The PNG to write. Defaults to 'curves.png'.
        legend (Sequence[str], optional): One name per run, or one per run and key (run-major,
            as MMPretrain's tool). Defaults to the run names.
        title (str, optional): Figure title.

    Returns:
        Path: ``out``.

    Raises:
        ValueError: If a key is absent from a run (naming its files and listing the keys that
            exist), or the legend has the wrong length.
    """
    if not runs or not keys:
        raise ValueError('plot_curve: give at least one run and one key')
    legend = [run.name for run in runs] if legend is None else list(legend)
    if len(legend) not in (len(runs), len(runs) * len(keys)):
        raise ValueError(f'plot_curve: {len(legend)} legend entries for {len(runs)} runs and '
                         f'{len(keys)} keys (give one per run, or one per run and key)')
    # resolve every key of every run first: a missing key fails before anything is drawn
    phases = [[run.resolve(key) for key in keys] for run in runs]
    data = [[run.series(key) for key in keys] for run in runs]

    # drawn on the Agg canvas without pyplot: the global backend and rcParams stay as they are
    fig = Figure(figsize=(10, 3.4 * len(keys) + 0.4), dpi=110)
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(keys), 1, squeeze=False)
    resumed = False
    for j, ax in enumerate(axes[:, 0]):
        for i, run in enumerate(runs):
            x, y, x_label = data[i][j]
            label = legend[i] if len(legend) == len(runs) else legend[i * len(keys) + j]
            color = METHOD_COLORS[i % len(METHOD_COLORS)]
            ax.plot(x, y, color=color, linewidth=1.4, label=label,
                    marker='o' if len(x) <= 30 else None, markersize=3.5)
            if phases[i][j][0] == 'train':
                for step in run.resumed_at:
                    ax.axvline(step, color=color, linewidth=0.9, linestyle=':')
                    resumed = True
        if all(np.isnan(d[j][1]).all() for d in data):
            ax.text(0.5, 0.5, 'no value (all NaN, e.g. a shot group without classes)',
                    transform=ax.transAxes, ha='center', va='center', color='0.4')
        ax.set_xlabel(data[0][j][2])
        full_keys = dict.fromkeys(p[j][1] for p in phases)
        ax.set_ylabel(' / '.join(full_keys))
        ax.grid(alpha=0.3)
        ax.spines['top'].set_visible(False)
        ax.spines['right'].set_visible(False)
        ax.legend(fontsize=9, frameon=False)
    if resumed:
        axes[0, 0].set_title('dotted line: run resumed', fontsize=9, color='0.35', loc='right')
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    return out


def train_time(run: RunLog, batch_size: Optional[int] = None,
               include_outliers: bool = False) -> Dict:
    """Time statistics of a run from the ``time`` of its training records.

    Each record's ``time`` is MMEngine's mean seconds per iteration over its logging window.
    Outliers, left out unless ``include_outliers``: the first record of every epoch (it holds the
    dataloader start) and the first record of every log folder (start-up or resume). An epoch
    logged only by outliers keeps them (e.g. one record per epoch).

    Args:
        run (RunLog): The run.
        batch_size (int, optional): Images per iteration (all GPUs together), for ``img_per_s``.
        include_outliers (bool): Keep the outliers. Defaults to False.

    Returns:
        dict: ``avg_iter_time`` (s/iter, mean over the kept records), ``avg_data_time`` (or
        None without ``data_time``), ``num_records`` and ``num_left_out``, ``epoch_times``
        (epoch -> mean s/iter; empty for iteration-based training), ``slowest_epoch``,
        ``fastest_epoch`` (or None), ``epoch_std`` (std of the epoch means, or None) and
        ``img_per_s`` (or None without ``batch_size``).

    Raises:
        ValueError: If no training record has ``time`` (naming the files and listing the
            training keys).
    """
    records = [r for r in run.train if 'time' in r]
    if not records:
        train_keys = run.keys()[0]
        raise ValueError(f'key "time" is not in the training records of '
                         f'{", ".join(str(f) for f in run.files)}; training keys: '
                         f'{", ".join(train_keys) or "none (no training records)"}')
    starts = set(run.segment_starts)
    if run.by_epoch:
        groups: Dict[int, List[dict]] = {}
        for r in records:
            groups.setdefault(r['epoch'], []).append(r)
    else:
        groups = {None: records}
    kept, epoch_times = [], {}
    for epoch, group in groups.items():
        use = group
        if not include_outliers:
            use = [r for i, r in enumerate(group)
                   if not ((run.by_epoch and i == 0) or r['step'] in starts)] or group
        kept += use
        if epoch is not None:
            epoch_times[epoch] = float(np.mean([r['time'] for r in use]))
    avg = float(np.mean([r['time'] for r in kept]))
    data_times = [r['data_time'] for r in kept if 'data_time' in r]
    stats = dict(
        avg_iter_time=avg,
        avg_data_time=float(np.mean(data_times)) if data_times else None,
        num_records=len(kept),
        num_left_out=len(records) - len(kept),
        epoch_times=epoch_times,
        slowest_epoch=max(epoch_times, key=epoch_times.get) if epoch_times else None,
        fastest_epoch=min(epoch_times, key=epoch_times.get) if epoch_times else None,
        epoch_std=float(np.std(list(epoch_times.values()))) if epoch_times else None,
        img_per_s=batch_size / avg if batch_size and avg > 0 else None,
    )
    return stats


def format_train_time(source: str, stats: Dict, batch_size: Optional[int] = None) -> str:
    """The text report of :func:`train_time` (as MMPretrain's ``cal_train_time``)."""
    lines = [f'{"-" * 5}Analyze train time of {source}{"-" * 5}']
    times = stats['epoch_times']
    if times:
        for which in ('slowest', 'fastest'):
            epoch = stats[f'{which}_epoch']
            lines.append(f'{which} epoch {epoch}, average time is {times[epoch]:.4f} s/iter')
        lines.append(f'time std over epochs is {stats["epoch_std"]:.4f}')
    lines.append(f'average iter time: {stats["avg_iter_time"]:.4f} s/iter '
                 f'({stats["num_records"]} records, {stats["num_left_out"]} outliers left out)')
    if stats['avg_data_time'] is not None:
        lines.append(f'average data time: {stats["avg_data_time"]:.4f} s/iter')
    if stats['img_per_s'] is not None:
        lines.append(f'throughput: {stats["img_per_s"]:.1f} img/s at batch size {batch_size}')
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='task', required=True)
    plot = sub.add_parser('plot_curve', help='plot training / evaluation curves')
    plot.add_argument('runs', nargs='+',
                      help='work dirs, timestamp folders, vis_data folders or scalars JSON files')
    plot.add_argument('--keys', nargs='+', default=['loss'],
                      help='keys to plot, one panel each (default: loss)')
    plot.add_argument('--legend', nargs='+', help='one name per run (or per run and key)')
    plot.add_argument('--title', help='figure title')
    plot.add_argument('--out', default='curves.png', help='output PNG (default: curves.png)')
    timing = sub.add_parser('cal_train_time', help='average time per training iteration')
    timing.add_argument('runs', nargs='+',
                        help='work dirs, timestamp folders, vis_data folders or scalars JSON files')
    timing.add_argument('--batch-size', type=int,
                        help='images per iteration (all GPUs together), to print img/s')
    timing.add_argument('--include-outliers', action='store_true',
                        help='keep the first record of every epoch and log folder')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None):
    """Run a sub-command; errors (missing file or key) exit with their message."""
    args = parse_args(argv)
    try:
        runs = [load_run(path) for path in args.runs]
        if args.task == 'plot_curve':
            out = plot_curve(runs, args.keys, args.out, args.legend, args.title)
            print(f'saved {out}')
            return out
        results = []
        for path, run in zip(args.runs, runs):
            stats = train_time(run, args.batch_size, args.include_outliers)
            print(format_train_time(path, stats, args.batch_size) + '\n')
            results.append(stats)
        return results
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(f'analyze_logs.py: error: {e}') from None


if __name__ == '__main__':
    main()
