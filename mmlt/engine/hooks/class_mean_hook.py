"""Class means for the NCM classifier of Kang et al., ICLR 2020, "Decoupling Representation
and Classifier for Long-Tailed Recognition", Sec. 4.2."""
import copy
import os.path as osp
from typing import Dict, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.dist import all_reduce, is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from torch.utils.data import DataLoader

from mmpretrain.registry import HOOKS
from mmlt.models.heads.ncm_head import center_normalize
from mmlt.utils.model import unwrap_model


@torch.no_grad()
def extract_features(model: torch.nn.Module, dataloader: DataLoader,
                     progress: Optional[str] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """Run ``model`` (an mmpretrain classifier, eval mode) up to the head's ``pre_logits``.

    Args:
        model (nn.Module): The (unwrapped) classifier with a ``data_preprocessor``.
        dataloader (DataLoader): Yields ``dict(inputs=..., data_samples=...)`` batches.
        progress (str, optional): Show a progress bar (rank 0 only) with this title.
            Defaults to None (no bar).

    Returns:
        tuple[Tensor, Tensor]: Features ``(N, D)`` (float32, on the CPU to bound GPU memory)
        and labels ``(N, )`` (int64) of this process's share of the data.
    """
    feats, labels = [], []
    bar = None
    if progress is not None and is_main_process():
        from mmengine.utils import ProgressBar
        print_log(f'{progress}: {len(dataloader)} batches', logger='current')
        bar = ProgressBar(len(dataloader))
    for data in dataloader:
        if bar is not None:
            bar.update()
        data = model.data_preprocessor(data, False)
        feat = model.extract_feat(data['inputs'], stage='pre_logits')
        if feat.dim() != 2:
            raise ValueError(f'ClassMeanHook: pre_logits features must be (N, D), got '
                             f'{tuple(feat.shape)}; add a GlobalAveragePooling neck')
        feats.append(feat.float().cpu())
        labels.append(torch.cat([s.gt_label for s in data['data_samples']]).cpu())
    if not feats:
        raise RuntimeError('ClassMeanHook: the dataloader yielded no data')
    return torch.cat(feats), torch.cat(labels).long()


def class_mean_statistics(
    feats: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int,
    reduce_device: Optional[torch.device] = None,
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Feature centre and per-class means of centred, L2-normalised features.

    Sums and counts are ``all_reduce``-d over processes (a no-op without distributed
    training), so every rank gets the statistics of the whole dataset.

    Args:
        feats (Tensor): ``(N, D)`` features of this process's share.
        labels (Tensor): ``(N, )`` labels in ``[0, num_classes)``.
        num_classes (int): Number of classes.
        reduce_device (torch.device, optional): Device of the all-reduced tensors (CUDA for
            NCCL). Defaults to the device of ``feats``.

    Returns:
        tuple[Tensor, Tensor, Tensor]: ``feat_center`` ``(D, )``, ``class_means`` ``(C, D)``
        (unit norm; zero for classes without samples) and ``counts`` ``(C, )``.
    """
    bad = labels[(labels < 0) | (labels >= num_classes)]
    if bad.numel():
        raise ValueError(f'ClassMeanHook: label {int(bad[0])} outside [0, {num_classes})')
    device = feats.device if reduce_device is None else reduce_device
    labels = labels.to(feats.device)
    total = torch.cat([feats.sum(0, dtype=torch.float64),
                       feats.new_tensor([feats.size(0)], dtype=torch.float64)]).to(device)
    all_reduce(total)
    feat_center = (total[:-1] / total[-1].clamp(min=1)).to(feats)

    normed = center_normalize(feats, feat_center)
    sums = normed.new_zeros(num_classes, normed.size(1)).index_add_(0, labels, normed)
    counts = torch.bincount(labels, minlength=num_classes).to(sums)
    sums, counts = sums.to(device), counts.to(device)
    all_reduce(sums)
    all_reduce(counts)
    feat_center = feat_center.to(device)
    class_means = F.normalize(sums / counts.clamp(min=1).unsqueeze(1), p=2, dim=1)
    return feat_center.float(), class_means.float(), counts.long()


@HOOKS.register_module()
class ClassMeanHook(Hook):
    """Fill an :class:`NCMHead`'s ``feat_center`` and ``class_means`` from a dataset.

    Before validation and test (and optionally after training) the model's backbone, neck and
    the head's ``pre_logits`` are run over ``dataloader`` (typically the training set with the
    test pipeline); ``feat_center`` is the mean feature and ``class_means[j]`` the re-normalised
    mean of the centred, L2-normalised features of class ``j`` (Kang et al., Sec. 4.2, NCM).
    Works under DDP: each rank processes its share and sums and counts are all-reduced; a
    ``DefaultSampler`` gets ``round_up=False`` so no sample is counted twice.

    Args:
        dataloader (dict | DataLoader): Dataloader (config) over the data to average.
        before_val (bool): Compute before every validation. Defaults to True.
        before_test (bool): Compute before testing. Defaults to True.
        after_train (bool): Compute after training. Defaults to False.
        save (str, optional): After computing, write the model (backbone, neck and the head's
            ``feat_center`` / ``class_means``) to this checkpoint file, relative to the work
            dir unless absolute, so that ``tools/test.py CONFIG <it>`` tests without
            recomputing (with ``reuse_loaded``). Defaults to None.
        reuse_loaded (bool): Before testing, keep class means that were loaded with the
            checkpoint (a saved NCM model) instead of recomputing them; statistics that are
            still all zero (a stage-1 checkpoint) are computed as usual. Defaults to False.
    """

    priority = 'NORMAL'

    def __init__(self,
                 dataloader: Union[Dict, DataLoader],
                 before_val: bool = True,
                 before_test: bool = True,
                 after_train: bool = False,
                 save: Optional[str] = None,
                 reuse_loaded: bool = False) -> None:
        if isinstance(dataloader, dict):
            dataloader = copy.deepcopy(dataloader)
            sampler = dataloader.get('sampler')
            if isinstance(sampler, dict) and sampler.get('type') in ('DefaultSampler',
                                                                     'mmengine.DefaultSampler'):
                sampler.setdefault('round_up', False)
        self.dataloader = dataloader
        self._before_val = before_val
        self._before_test = before_test
        self._after_train = after_train
        self.save = save
        self.reuse_loaded = reuse_loaded

    def _get_dataloader(self, runner) -> DataLoader:
        if isinstance(self.dataloader, dict):
            self.dataloader = runner.build_dataloader(
                self.dataloader, seed=runner.seed)
        return self.dataloader

    def compute(self, runner) -> None:
        """Extract the features and store the statistics in the model's head."""
        model = unwrap_model(runner.model)
        head = getattr(model, 'head', None)
        if not hasattr(head, 'update_means'):
            raise TypeError(f'ClassMeanHook: the model head {type(head).__name__} has no '
                            '`update_means` (use NCMHead)')
        was_training = model.training
        model.eval()
        try:
            feats, labels = extract_features(model, self._get_dataloader(runner),
                                             progress='ClassMeanHook: features')
            center, means, counts = class_mean_statistics(
                feats, labels, head.num_classes, reduce_device=head.class_means.device)
        finally:
            model.train(was_training)
        head.update_means(center, means)
        empty = int((counts == 0).sum())
        print_log(f'ClassMeanHook: class means from {int(counts.sum())} samples'
                  + (f'; {empty} classes have no sample (zero mean)' if empty else ''),
                  logger='current')
        if self.save and is_main_process():
            path = self.save if osp.isabs(self.save) else osp.join(runner.work_dir, self.save)
            torch.save({'state_dict': model.state_dict(),
                        'meta': dict(ncm_samples=int(counts.sum()))}, path)
            print_log(f'ClassMeanHook: model with its class means saved to {path}',
                      logger='current')

    def before_val(self, runner) -> None:
        if self._before_val:
            self.compute(runner)

    def before_test(self, runner) -> None:
        if not self._before_test:
            return
        if self.reuse_loaded:
            model = unwrap_model(runner.model)
            if bool(model.head.class_means.any()):
                print_log('ClassMeanHook: using the class means loaded with the checkpoint',
                          logger='current')
                return
        self.compute(runner)

    def after_train(self, runner) -> None:
        if self._after_train:
            self.compute(runner)
