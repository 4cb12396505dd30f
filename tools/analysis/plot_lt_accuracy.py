"""Plot per-class accuracy against training frequency from LongTailAccuracy CSVs.

Classes are ordered by training count (head left, tail right). One CSV: per-class accuracy as
bars (plus a moving average when there are many classes); several CSVs (methods to compare):
one moving-average line each. The training count is drawn on a secondary log-scale axis and the
Many/Medium/Few-shot ranges are shaded, each with its group's mean accuracy per method.
The drawing lives in :mod:`mmlt.visualization.lt_plot` (``LongTailPlotHook`` sends the same figure
to the visualizer, e.g. TensorBoard, at every evaluation).

Example::

    python tools/analysis/plot_lt_accuracy.py \\
        work_dirs/ce/20240101_000000/per_class_accuracy.csv \\
        work_dirs/dscl/20240101_000000/per_class_accuracy.csv \\
        --labels CE DSCL --out lt_accuracy.png --title 'ImageNet-LT, ResNet-50'
"""
import argparse
from typing import List, Optional

# re-exported: the tool's API is the package's (one implementation)
from mmlt.visualization.lt_plot import (moving_average, plot_lt_accuracy,  # noqa: F401
                                        read_per_class_csv)


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
