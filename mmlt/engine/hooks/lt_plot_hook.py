"""Send the per-class accuracy plot (and the test metrics) to the visualizer at every evaluation."""
import os.path as osp
from numbers import Number
from typing import Dict, Optional, Tuple

import numpy as np
import torch
from mmengine.hooks import Hook, LoggerHook
from mmpretrain.registry import HOOKS

from mmlt.evaluation.metrics import LongTailAccuracy
from mmlt.visualization import render_lt_accuracy


def _scalar(value) -> Optional[float]:
    """``value`` as a float if it is one number (int, float, numpy or one-element tensor)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Number):
        return float(value)
    if isinstance(value, np.ndarray) and value.size == 1:
        return float(value.item())
    if torch.is_tensor(value) and value.numel() == 1:
        return float(value.item())
    return None


@HOOKS.register_module()
class LongTailPlotHook(Hook):
    """Put the per-class accuracy figure of :class:`LongTailAccuracy` on the visualizer.

    After each validation and test epoch, every ``LongTailAccuracy`` of the loop's evaluator that
    has just written its per-class CSV (:attr:`LongTailAccuracy.last_csv_path`: its ``out_dir``,
    else the run's log folder) is drawn as ``tools/analysis/plot_lt_accuracy.py`` draws it
    (:func:`mmlt.visualization.render_lt_accuracy`: accuracy per class against the training
    counts, Many / Medium / Few bands with their means) and sent to
    ``runner.visualizer.add_image(name, rgb, step=...)``: with ``LocalVisBackend`` a PNG in
    ``<log_dir>/vis_data/vis_image/``, with ``TensorboardVisBackend`` the IMAGES tab, one image
    per evaluation on a step slider. Validation images are named ``name``, test ones
    ``test_<name>``.

    The scalar metrics (top-1, top-5, Many / Medium / Few, mean class accuracy) of a validation
    already reach ``runner.visualizer.add_scalars`` through MMEngine's ``LoggerHook`` (as
    ``accuracy/many`` ...); those of a test only go to the test's JSON log, so this hook also
    sends them to ``add_scalars``, prefixed ``test/`` (``test/accuracy/many`` ...), which keeps
    them apart from the validation curves and from the ``accuracy/top1`` records
    ``tools/benchmark/lt_results.py`` reads from ``vis_data/scalars.json``.

    The step is the one ``LoggerHook`` logs validation metrics at: the epoch (the iteration when
    ``log_metric_by_epoch=False``), 0 outside training. Without an evaluation, or without a
    ``LongTailAccuracy`` CSV (another metric, no log file, a rank other than the main one), the
    hook does nothing; drawing takes about half a second per evaluation.

    Args:
        name (str): Image name. Defaults to 'per_class_accuracy'.
        dpi (int): Pixels per inch of the 13 x 6 inch figure. Defaults to 100
            (1300 x 600 pixels).
        smooth (int, optional): Moving-average window in classes; defaults to
            about 1/40 of the classes (none below 60 classes).
        test_scalars (bool): Send the scalar test metrics to ``add_scalars``.
            Defaults to True.
    """

    priority = 'LOW'  # after LoggerHook (BELOW_NORMAL) has logged the metrics

    def __init__(self,
                 name: str = 'per_class_accuracy',
                 dpi: int = 100,
                 smooth: Optional[int] = None,
                 test_scalars: bool = True) -> None:
        if not name:
            raise ValueError('LongTailPlotHook: name must not be empty')
        self.name = name
        self.dpi = int(dpi)
        self.smooth = smooth
        self.test_scalars = test_scalars

    @staticmethod
    def _step(runner) -> Tuple[int, Optional[str]]:
        """The step ``LoggerHook.after_val_epoch`` logs at (0 without a training loop) and its
        unit ('epoch', 'iter' or None)."""
        if isinstance(runner._train_loop, dict) or runner._train_loop is None:
            return 0, None
        logger = next((h for h in runner.hooks if isinstance(h, LoggerHook)), None)
        if getattr(logger, 'log_metric_by_epoch', True):
            return runner.epoch, 'epoch'
        return runner.iter, 'iter'

    def _plot(self, runner, loop, mode: str, metrics: Optional[Dict]) -> None:
        """Draw the CSV of every ``LongTailAccuracy`` of ``loop`` that wrote one and add it."""
        step, unit = self._step(runner)
        evaluator = getattr(loop, 'evaluator', None)
        found = [m for m in getattr(evaluator, 'metrics', [])
                 if isinstance(m, LongTailAccuracy) and m.last_csv_path
                 and osp.isfile(m.last_csv_path)]
        for metric in found:
            name = self.name if len(found) == 1 else f'{self.name}_{metric.prefix}'
            if mode == 'test':
                name = f'test_{name}'
            name = name.replace('/', '_')  # LocalVisBackend saves <name>_<step>.png in one folder
            title = f'{mode}, {unit} {step}' if unit else mode
            top1 = (metrics or {}).get(f'{metric.prefix}/top1' if metric.prefix else 'top1')
            if top1 is not None:
                title += f' (top-1 {float(top1):.2f}%)'
            try:
                image = render_lt_accuracy([metric.last_csv_path], labels=[mode], title=title,
                                           smooth=self.smooth, dpi=self.dpi)
            except (OSError, ValueError) as err:  # a figure must not stop a training run
                runner.logger.warning(f'LongTailPlotHook: no plot of {metric.last_csv_path}: '
                                      f'{err}')
                continue
            runner.visualizer.add_image(name, image, step=step)

    def after_val_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        """Send the per-class accuracy figure of the validation to the visualizer."""
        self._plot(runner, runner.val_loop, 'val', metrics)

    def after_test_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        """Send the figure and the scalar metrics of the test to the visualizer."""
        if self.test_scalars and metrics:
            scalars = {f'test/{k}': v for k, v in
                       ((k, _scalar(v)) for k, v in metrics.items()) if v is not None}
            if scalars:
                runner.visualizer.add_scalars(scalars, step=self._step(runner)[0])
        self._plot(runner, runner.test_loop, 'test', metrics)
