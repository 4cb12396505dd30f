"""Re-estimate the BatchNorm statistics of a frozen stage-1 backbone on stage-2 images."""
import copy
from typing import Dict, Optional, Union

import torch
from torch import nn
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmpretrain.engine.hooks.precise_bn_hook import update_bn_stats
from mmpretrain.registry import HOOKS
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.data import DataLoader

from mmlt.utils.model import unwrap_model


class _FeatureForward(nn.Module):
    """``model`` seen by ``update_bn_stats`` as its feature extractor only.

    ``update_bn_stats`` calls ``model(**data)`` (``mode='tensor'``), which for a classifier also
    runs the head; an NCM head whose class means are not computed yet refuses to run, and no
    head has BatchNorm statistics to re-estimate. Models without ``extract_feat`` run whole.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.data_preprocessor = model.data_preprocessor

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if hasattr(self.model, 'extract_feat'):
            return self.model.extract_feat(inputs)
        return self.model(inputs, data_samples, mode=mode)


@HOOKS.register_module()
class BNRecalibrationHook(Hook):
    """Replace the running BatchNorm statistics of the model by those of the stage-2 images.

    A contrastive stage 1 leaves BatchNorm statistics that describe what went through the query
    encoder during training: with PBSD, the small patch crops pass last in every step, so about
    half of each running mean and variance is crop statistics. A classifier stage that keeps
    BatchNorm frozen in eval mode (cRT, LWS, NCM here; the DSCL authors' linear stage instead
    trains with BatchNorm in train mode) then reads features normalised with the wrong statistics.
    This hook runs the images of the classifier stage through the frozen model once, no gradient,
    BatchNorm layers temporarily in train mode, and stores the average of the per-batch means and
    variances (MMPretrain's precise-BN :func:`update_bn_stats`, all-reduced across ranks) as the
    new running statistics, which the stage-2 checkpoint then carries.

    Args:
        dataloader (dict | DataLoader, optional): Images to estimate on; None uses the training
            dataloader (cRT / LWS). For test-only stages (NCM) give one, e.g. the training split
            with the test pipeline. The data preprocessor runs in eval mode (no batch
            augmentation).
        num_samples (int, optional): Images to use; None: the whole dataloader.
        before_train (bool): Re-estimate before training (skipped when a run is resumed after
            its first iteration: its checkpoint holds the re-estimated statistics).
            Defaults to True.
        before_test (bool): Re-estimate before testing. Defaults to False.
    """

    priority = 'ABOVE_NORMAL'  # before ClassMeanHook (NORMAL) reads the features

    def __init__(self,
                 dataloader: Union[Dict, DataLoader, None] = None,
                 num_samples: Optional[int] = None,
                 before_train: bool = True,
                 before_test: bool = False) -> None:
        if num_samples is not None and num_samples < 1:
            raise ValueError(f'BNRecalibrationHook: num_samples must be >= 1, got {num_samples}')
        self.dataloader = copy.deepcopy(dataloader) if isinstance(dataloader, dict) \
            else dataloader
        self.num_samples = num_samples
        self._before_train = before_train
        self._before_test = before_test

    def _loader(self, runner) -> DataLoader:
        if self.dataloader is None:
            return runner.train_dataloader
        if isinstance(self.dataloader, dict):
            self.dataloader = runner.build_dataloader(self.dataloader, seed=runner.seed)
        return self.dataloader

    @torch.no_grad()
    def recalibrate(self, runner) -> None:
        """Re-estimate every BatchNorm layer's running statistics."""
        model = unwrap_model(runner.model)
        loader = self._loader(runner)
        bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
        if not bns:
            print_log('BNRecalibrationHook: the model has no BatchNorm layer', logger='current',
                      level=30)
            return
        num_samples = self.num_samples or len(loader) * loader.batch_size * max(
            1, runner.world_size)
        was_training = model.training
        model.eval()
        for bn in bns:
            bn.train()
        try:
            update_bn_stats(_FeatureForward(model), loader, num_samples, logger='current')
        finally:
            model.train(was_training)
        print_log(f'BNRecalibrationHook: {len(bns)} BatchNorm layers re-estimated on about '
                  f'{num_samples} images', logger='current')

    def before_train(self, runner) -> None:
        if self._before_train and runner.iter == 0:
            self.recalibrate(runner)

    def before_test(self, runner) -> None:
        if self._before_test:
            self.recalibrate(runner)
