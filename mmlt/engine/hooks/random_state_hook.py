"""Save and restore the random number generators so that a resumed run draws the same numbers."""
import random

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log
from mmpretrain.registry import HOOKS

CHECKPOINT_KEY = 'random_state'


def get_random_state() -> dict:
    """The states of Python's, numpy's and torch's global generators in this process."""
    state = dict(
        python=random.getstate(),
        numpy=np.random.get_state(),
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_random_state(state: dict, which=('python', 'numpy', 'torch', 'cuda')) -> None:
    """Restore the generators named in ``which`` from :func:`get_random_state`'s output."""
    if 'python' in which:
        version, internal, gauss = state['python']
        random.setstate((version, tuple(internal), gauss))
    if 'numpy' in which:
        np.random.set_state(state['numpy'])
    if 'torch' in which:
        torch.set_rng_state(state['torch'])
    if 'cuda' in which and 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Checkpoint every rank's Python, numpy and torch RNG states; restore them on resume.

    mmengine seeds the generators once at start-up, so a resumed run would draw different data
    augmentations (numpy / Python, in the data pipeline) and different model randomness (torch)
    than the run it continues. With this hook and :class:`SamplerStateHook`, a run resumed from
    any checkpoint, mid-epoch included, repeats the uninterrupted run exactly when the data
    pipeline runs in the main process (``num_workers=0``). In worker processes the pipeline's
    generators are the workers', which this hook cannot reach; there mmlt's samplers make the
    augmentation exact instead, by seeding each sample from (seed, epoch, position)
    (:class:`mmlt.datasets.samplers.sample_seed.SeededIndex`).

    Dataloaders draw from their own generator. Creating a dataloader iterator draws one number
    (the workers' base seed) from torch's generator, at every epoch start and every validation,
    in an order a resumed run cannot repeat (a run resumed from a checkpoint saved at the last
    iteration of an epoch creates an empty iterator for the rest of that epoch first). So in
    ``before_train`` every train / val / test dataloader without a ``generator`` gets one, seeded
    with the run's seed, and the global generators serve the augmentation and the model alone;
    the states are then restored when the checkpoint is loaded.

    Exactness is for epoch-based loops: mmengine's iteration-based loop replays the dataloader
    after a resume (drawing augmentations for batches it then drops), so there the states are
    restored at load time and the replay moves them on. States of all ranks are gathered into the
    checkpoint; a run resumed with another world size keeps its fresh seeds and logs a warning.
    """

    priority = 'NORMAL'

    def __init__(self) -> None:
        self._gathered = None

    def before_train(self, runner) -> None:
        """Give the run's dataloaders their own generator (see the class docstring)."""
        seed = runner.seed if runner.seed is not None else 0
        for name in ('_train_loop', '_val_loop', '_test_loop'):
            loader = getattr(getattr(runner, name, None), 'dataloader', None)
            if loader is not None and getattr(loader, 'generator', 1) is None:
                loader.generator = torch.Generator().manual_seed(seed)

    # ``Runner.save_checkpoint`` (and so ``before_save_checkpoint``) runs on rank 0 only, so the
    # other ranks' states are gathered by every rank just before the CheckpointHook (priority
    # VERY_LOW, after this hook) saves.
    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self._gather_if_saving(runner, epoch_end=False)

    def after_train_epoch(self, runner) -> None:
        self._gather_if_saving(runner, epoch_end=True)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        states = self._gathered if self._gathered is not None else [get_random_state()]
        self._gathered = None
        checkpoint[CHECKPOINT_KEY] = dict(world_size=len(states), states=states)

    def _gather_if_saving(self, runner, epoch_end: bool) -> None:
        _, world_size = get_dist_info()
        if world_size == 1:
            return
        saving = False
        for hook in runner.hooks:
            if isinstance(hook, CheckpointHook) and hook.by_epoch == epoch_end:
                if epoch_end:
                    saving |= hook.every_n_epochs(runner, hook.interval, hook.save_begin) or (
                        hook.save_last and hook.is_last_train_epoch(runner))
                else:
                    saving |= hook.every_n_train_iters(
                        runner, hook.interval, hook.save_begin) or (
                            hook.save_last and hook.is_last_train_iter(runner))
        if saving:
            self._gathered = all_gather_object(get_random_state())

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        saved = checkpoint.get(CHECKPOINT_KEY)
        if saved is None or not getattr(runner, '_resume', False):
            return
        rank, world_size = get_dist_info()
        if saved['world_size'] != world_size:
            print_log(
                f'RandomStateHook: the checkpoint holds RNG states of {saved["world_size"]} '
                f'processes, this run has {world_size}; keeping fresh seeds.',
                logger='current', level=30)
            return
        set_random_state(saved['states'][rank])

