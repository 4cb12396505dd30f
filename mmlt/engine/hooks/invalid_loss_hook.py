"""Stop a run at the first iteration whose loss is NaN or infinite."""
import os.path as osp
from typing import Optional

import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class InvalidLossHook(Hook):
    """Raise at once when a logged loss term is NaN or infinite.

    A run whose loss has become NaN keeps training on NaN weights until its
    schedule ends, and its next checkpoint overwrites a good one. This hook
    checks every loss term the model logs (``outputs`` of ``train_step``:
    ``loss`` and each ``loss_*``) after each ``interval``-th iteration and
    raises :class:`FloatingPointError` naming the iteration, the epoch and
    every term with its value. It runs before :class:`CheckpointHook`
    (priority ``ABOVE_NORMAL`` vs ``VERY_LOW``), so the invalid state is never
    saved and the last checkpoint stays the last good one; the message names
    it. Under distributed training the check is one all-reduced flag, so every
    rank stops at the same iteration instead of the healthy ranks waiting in
    the next collective for the one that stopped.

    mmdet's ``CheckInvalidLossHook`` does the same check, but only every 50
    iterations, on the total loss alone, with an assertion without a message.

    Args:
        interval (int): Check every ``interval`` iterations. The terms are
            already reduced to scalars for logging, so checking every
            iteration costs one small all-reduce in a distributed run.
            Defaults to 1.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, interval: int = 1) -> None:
        if int(interval) != interval or interval < 1:
            raise ValueError(f'InvalidLossHook: interval must be an int >= 1, got {interval!r}')
        self.interval = int(interval)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        if not outputs or not self.every_n_train_iters(runner, self.interval):
            return
        terms = {k: v for k, v in outputs.items() if 'loss' in k}
        if not terms:
            return
        values = torch.stack([torch.as_tensor(v, dtype=torch.float32).detach().reshape(())
                              for v in terms.values()])
        bad = (~torch.isfinite(values)).sum().reshape(1)
        all_reduce(bad)  # identity outside distributed training
        if bad.item() == 0:
            return
        listed = ', '.join(f'{k}={float(v):.6g}' for k, v in zip(terms, values.tolist()))
        last = osp.join(runner.work_dir, 'last_checkpoint')
        if osp.isfile(last):
            with open(last) as f:
                resume = f'the last checkpoint, {f.read().strip()}, was saved before it'
        else:
            resume = 'no checkpoint had been saved yet'
        where = '' if not torch.isfinite(values).all() else \
            ' (all finite on this rank: the invalid term is on another rank)'
        raise FloatingPointError(
            f'invalid loss at iteration {runner.iter + 1} (epoch {runner.epoch + 1}, '
            f'batch {batch_idx + 1}): {listed}{where}. Stopped before saving anything; '
            f'{resume}.')
