"""Save and restore the train sampler's position so that a mid-epoch resume is exact."""
from typing import Optional

from mmengine.dist import get_dist_info
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop
from mmpretrain.registry import HOOKS

CHECKPOINT_KEY = 'sampler_state'


@HOOKS.register_module()
class SamplerStateHook(Hook):
    """Store the train sampler's state in checkpoints and restore it on resume.

    mmengine's :class:`~mmengine.runner.EpochBasedTrainLoop` restarts an epoch from its first
    batch after a resume, so a run resumed from a mid-epoch checkpoint (``CheckpointHook(
    by_epoch=False)``) would train on the first part of the epoch twice and never see its rest.
    With a sampler that has ``state_dict(consumed_samples)`` / ``load_state_dict(state)``
    (e.g. :class:`mmlt.datasets.samplers.ClassPowerSampler`) this hook makes the resumed epoch
    yield exactly the indices the interrupted run had not yet consumed.

    Consumed samples at a save. ``Runner.save_checkpoint`` writes ``meta['epoch']`` and
    ``meta['iter']`` as the epoch/iteration the resumed run starts from: ``(epoch + 1, iter)``
    for an epoch-end save (called in ``after_train_epoch``, where ``iter`` already counts the
    whole epoch) and ``(epoch, iter + 1)`` for an iteration save (called in
    ``after_train_iter``, before the loop increments ``iter``). In both cases the iterations
    already done in the epoch to resume are ``meta['iter'] - meta['epoch'] *
    len(train_dataloader)`` (0 at an epoch end), and the consumed global samples are that times
    the batch size times the world size (rank r's b-th batch holds global positions
    ``(b * batch_size + i) * world_size + r``).

    :class:`~mmengine.runner.IterBasedTrainLoop` already replays its dataloader on resume (it
    calls ``next()`` ``iter`` times), so there the hook restores nothing: skipping as well would
    skip twice. Loading weights with ``load_from`` without ``resume`` (fine-tuning) does not
    restore the sampler either.
    """

    priority = 'NORMAL'

    @staticmethod
    def _epoch_loop(runner) -> Optional[EpochBasedTrainLoop]:
        """The built epoch-based train loop, else None.

        Reads ``runner._train_loop`` rather than ``runner.train_loop``: the
        property would build the train loop and dataloader when a runner that
        only validates or tests resumes a checkpoint.
        """
        loop = getattr(runner, '_train_loop', None)
        return loop if isinstance(loop, EpochBasedTrainLoop) else None

    @staticmethod
    def _sampler(loop: EpochBasedTrainLoop) -> Optional[object]:
        """The train dataloader's sampler if it can save its state, else None."""
        loader = loop.dataloader
        sampler = getattr(loader, 'sampler', None)
        if not hasattr(sampler, 'load_state_dict'):
            batch_sampler = getattr(loader, 'batch_sampler', None)
            sampler = getattr(batch_sampler, 'sampler', None)
        if hasattr(sampler, 'state_dict') and hasattr(sampler,
                                                      'load_state_dict'):
            return sampler
        return None

    @staticmethod
    def _batch_size(loader) -> int:
        if loader.batch_size is not None:
            return int(loader.batch_size)
        return int(loader.batch_sampler.batch_size)

    def consumed_samples(self, loop: EpochBasedTrainLoop, meta: dict) -> int:
        """Global samples of the epoch ``meta['epoch']`` done when ``meta`` was written."""
        loader = loop.dataloader
        iters_per_epoch = len(loader)
        done = int(meta['iter']) - int(meta['epoch']) * iters_per_epoch
        done = min(max(done, 0), iters_per_epoch)
        _, world_size = get_dist_info()
        return done * self._batch_size(loader) * world_size

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Write ``checkpoint['sampler_state']`` (epoch to resume, seed, consumed samples)."""
        loop = self._epoch_loop(runner)
        if loop is None:
            return  # IterBasedTrainLoop replays the dataloader itself: nothing to save
        sampler = self._sampler(loop)
        if sampler is None:
            return
        meta = checkpoint['meta']
        state = sampler.state_dict(self.consumed_samples(loop, meta))
        # the epoch the resumed run starts from (``epoch + 1`` after an epoch-end save)
        state['epoch'] = int(meta['epoch'])
        checkpoint[CHECKPOINT_KEY] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """On ``resume`` of an epoch-based loop: restore the sampler, skip the consumed part."""
        if not getattr(runner, '_resume', False):
            return  # load_from without resume: a new training run
        loop = self._epoch_loop(runner)
        if loop is None:
            return  # IterBasedTrainLoop replays the dataloader; not training at all
        state = checkpoint.get(CHECKPOINT_KEY)
        sampler = self._sampler(loop)
        if state is None or sampler is None:
            if state is None and sampler is not None:
                runner.logger.warning(
                    f'SamplerStateHook: the checkpoint has no {CHECKPOINT_KEY!r}; '
                    'a mid-epoch resume restarts the epoch from its start')
            return
        sampler.load_state_dict(state)
        runner.logger.info(
            f"SamplerStateHook: resuming epoch {state['epoch']} after "
            f"{state['consumed_samples']} consumed samples (seed {state['seed']})")
