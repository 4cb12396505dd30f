"""Collect the test metrics of a pipeline's runs into one markdown table.

    python tools/analysis/collect_results.py WORK_DIR [--out WORK_DIR/results.md]

Reads ``WORK_DIR/<method>/metrics.json`` (written by ``tools/test.py --out metrics.json
--out-item metrics``) and ``WORK_DIR/<method>/tau_norm_sweep.json`` (``tools/tau_norm_sweep.py``),
and prints top-1 / Many / Medium / Few per method; nothing in the table is typed by hand.
"""
import argparse
import json
from pathlib import Path

COLUMNS = ('top1', 'many', 'medium', 'few', 'top5')


def read_method(folder: Path):
    """``(metrics, note)`` of one method folder, or None if it holds no results; the metric keys
    are shortened to their last part (``accuracy/top1`` -> ``top1``)."""
    metrics_file, sweep_file = folder / 'metrics.json', folder / 'tau_norm_sweep.json'
    if sweep_file.exists():
        sweep = json.loads(sweep_file.read_text())
        metrics = sweep['test']
        note = f'tau = {sweep["tau"]:.1f}, chosen on {sweep["num_val"]} val images'
    elif metrics_file.exists():
        metrics, note = json.loads(metrics_file.read_text()), ''
    else:
        return None
    return {key.split('/')[-1]: value for key, value in metrics.items()}, note


def table(work_dir: Path) -> str:
    rows = ['| method | ' + ' | '.join(COLUMNS) + ' | note |',
            '|---' * (len(COLUMNS) + 2) + '|']
    for folder in sorted(p for p in work_dir.iterdir() if p.is_dir()):
        found = read_method(folder)
        if found is None:
            continue
        metrics, note = found
        cells = [f'{metrics[c]:.2f}' if isinstance(metrics.get(c), (int, float)) else '-'
                 for c in COLUMNS]
        rows.append(f'| {folder.name} | ' + ' | '.join(cells) + f' | {note} |')
    return '\n'.join(rows) + '\n'


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dir', type=Path)
    parser.add_argument('--out', type=Path, help='default: WORK_DIR/results.md')
    args = parser.parse_args()
    text = table(args.work_dir)
    print(text)
    (args.out or args.work_dir / 'results.md').write_text(text)


if __name__ == '__main__':
    main()
