"""Accuracy on long-tailed benchmarks: overall top-k, Many/Medium/Few-shot and per-class."""
import csv
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmpretrain.registry import METRICS

GROUPS = ('many', 'medium', 'few')
CSV_FIELDS = ('class_index', 'class_name', 'train_count', 'group',
              'num_samples', 'num_correct', 'accuracy')


def shot_groups(class_counts: Sequence[int], many_thr: int = 100,
                few_thr: int = 20) -> np.ndarray:
    """The shot group of every class from its TRAINING count n_j.

    Many: n_j > many_thr; Medium: few_thr <= n_j <= many_thr; Few: n_j < few_thr
    (Liu et al., "Large-Scale Long-Tailed Recognition in an Open World", CVPR 2019).

    Returns:
        np.ndarray: Strings 'many', 'medium' or 'few', one per class.
    """
    counts = np.asarray(class_counts)
    return np.where(counts > many_thr, 'many',
                    np.where(counts < few_thr, 'few', 'medium'))


@METRICS.register_module()
class LongTailAccuracy(BaseMetric):
    """Top-k accuracy plus the Many/Medium/Few-shot and mean per-class accuracy.

    For the evaluation samples with labels y_i and scores s_i:

    - ``top{k}`` = 100 / N * sum_i [y_i in top-k(s_i)] over all samples;
    - per-class accuracy a_j = 100 * (# correct top-1 in class j) / (# samples of class j);
    - ``many`` / ``medium`` / ``few`` = mean of a_j over the group's classes that occur in the
      evaluation set (NaN for a group without any), groups from the TRAINING counts n_j (see
      :func:`shot_groups`);
    - ``mean_class`` = mean of a_j over the classes that occur in the evaluation set.

    A CSV with one row per class (``class_index, class_name, train_count, group, num_samples,
    num_correct, accuracy``) is written to ``out_dir/per_class_file`` for
    ``tools/analysis/plot_lt_accuracy.py``; its path is kept in :attr:`last_csv_path` (None
    until an evaluation wrote one, and on ranks other than the main one), where
    :class:`~mmlt.engine.hooks.LongTailPlotHook` finds it.

    Args:
        topk (int | Sequence[int]): The k of the overall top-k accuracies; a k
            larger than the number of classes is left out. Defaults to (1, 5).
        many_thr (int): Classes with more training images are Many-shot.
            Defaults to 100.
        few_thr (int): Classes with fewer training images are Few-shot.
            Defaults to 20.
        class_counts (Sequence[int], optional): Training images per class. Defaults
            to ``dataset_meta['class_counts']``, which mmlt datasets put in their metainfo.
        out_dir (str, optional): Folder of the per-class CSV. Defaults to the folder
            of the current :class:`~mmengine.logging.MMLogger`'s log file, i.e.
            ``work_dir/<timestamp>/``; without a log file no CSV is written.
        per_class_file (str): CSV file name. Defaults to 'per_class_accuracy.csv'.
        collect_device (str): Device for collecting results across ranks.
            Defaults to 'cpu'.
        prefix (str, optional): Prefix of the metric names. Defaults to
            'accuracy' (as mmpretrain's ``Accuracy``: ``accuracy/top1``).
    """
    default_prefix: Optional[str] = 'accuracy'

    def __init__(self,
                 topk: Union[int, Sequence[int]] = (1, 5),
                 many_thr: int = 100,
                 few_thr: int = 20,
                 class_counts: Optional[Sequence[int]] = None,
                 out_dir: Optional[str] = None,
                 per_class_file: str = 'per_class_accuracy.csv',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.topk = (topk, ) if isinstance(topk, int) else tuple(topk)
        if not self.topk or min(self.topk) < 1:
            raise ValueError(f'LongTailAccuracy: topk must be positive ints, got {topk}')
        if few_thr > many_thr:
            raise ValueError(f'LongTailAccuracy: few_thr={few_thr} > many_thr={many_thr}')
        self.many_thr = many_thr
        self.few_thr = few_thr
        self.class_counts = None if class_counts is None else [int(n) for n in class_counts]
        self.out_dir = out_dir
        self.per_class_file = per_class_file
        self.last_csv_path: Optional[str] = None
        self._maxk = max(self.topk)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep each sample's label and its ``max(topk)`` best classes (not the full scores)."""
        for sample in data_samples:
            gt = int(torch.as_tensor(sample['gt_label']).reshape(-1)[0])
            if 'pred_score' in sample:
                score = torch.as_tensor(sample['pred_score']).reshape(-1).cpu()
                k = min(self._maxk, score.numel())
                pred = torch.topk(score, k).indices
                num_classes = score.numel()
            elif self._maxk == 1 and 'pred_label' in sample:
                pred = torch.as_tensor(sample['pred_label']).reshape(-1)[:1].cpu()
                num_classes = None
            else:
                raise KeyError('LongTailAccuracy needs pred_score in the data samples '
                               f'(pred_label suffices only for topk=(1,)), got keys '
                               f'{sorted(sample.keys())}')
            self.results.append(dict(gt_label=gt, pred_topk=pred, num_classes=num_classes))

    def _train_counts(self, num_classes: Optional[int]) -> np.ndarray:
        counts = self.class_counts
        if counts is None and self.dataset_meta is not None:
            counts = self.dataset_meta.get('class_counts')
        if counts is None:
            raise ValueError(
                'LongTailAccuracy needs the training images per class: pass '
                '`class_counts=[...]` to the metric, or give the evaluation dataset a '
                "metainfo['class_counts'] (mmlt datasets do; mmengine copies it to "
                'dataset_meta)')
        counts = np.asarray(counts, dtype=np.int64)
        if num_classes is not None and len(counts) != num_classes:
            raise ValueError(f'LongTailAccuracy: class_counts has {len(counts)} classes '
                             f'but pred_score has {num_classes}')
        return counts

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Compute the accuracies (percent) and write the per-class CSV."""
        self.last_csv_path = None
        if not results:
            raise ValueError('LongTailAccuracy: no evaluation samples were processed')
        widths = {r['num_classes'] for r in results} - {None}
        if len(widths) > 1:
            raise ValueError(f'LongTailAccuracy: pred_score sizes differ: {sorted(widths)}')
        counts = self._train_counts(widths.pop() if widths else None)
        num_classes = len(counts)
        gt = torch.tensor([r['gt_label'] for r in results], dtype=torch.long)
        if len(gt) and (gt.min() < 0 or gt.max() >= num_classes):
            raise ValueError(f'LongTailAccuracy: gt_label {int(gt.max())} outside '
                             f'[0, {num_classes})')
        width = min(len(r['pred_topk']) for r in results)
        pred = torch.stack([r['pred_topk'][:width] for r in results])
        hits = pred == gt[:, None]  # (N, k) one-hot over ranks

        metrics = {}
        for k in self.topk:
            if k <= num_classes:
                metrics[f'top{k}'] = hits[:, :k].any(1).double().mean().item() * 100

        num_samples = torch.bincount(gt, minlength=num_classes).numpy()
        num_correct = torch.bincount(gt, weights=hits[:, 0].double(),
                                     minlength=num_classes).numpy().astype(np.int64)
        present = num_samples > 0
        accuracy = np.full(num_classes, np.nan)
        accuracy[present] = 100.0 * num_correct[present] / num_samples[present]
        groups = shot_groups(counts, self.many_thr, self.few_thr)
        for name in GROUPS:
            members = present & (groups == name)
            metrics[name] = float(accuracy[members].mean()) if members.any() else float('nan')
        metrics['mean_class'] = float(accuracy[present].mean())

        self._write_csv(counts, groups, num_samples, num_correct, accuracy)
        return metrics

    def _csv_path(self) -> Optional[str]:
        out_dir = self.out_dir
        if out_dir is None:
            log_file = MMLogger.get_current_instance().log_file
            if log_file is None:
                return None
            out_dir = osp.dirname(log_file)
        return osp.join(out_dir, self.per_class_file)

    def _write_csv(self, counts, groups, num_samples, num_correct, accuracy) -> None:
        path = self._csv_path()
        if path is None:
            return
        os.makedirs(osp.dirname(path) or '.', exist_ok=True)
        names = (self.dataset_meta or {}).get('classes')
        if names is None or len(names) != len(counts):
            names = [''] * len(counts)
        with open(path, 'w', newline='') as f:
            writer = csv.writer(f)
            writer.writerow(CSV_FIELDS)
            for j in range(len(counts)):
                acc = '' if np.isnan(accuracy[j]) else f'{accuracy[j]:.4f}'
                writer.writerow([j, names[j], int(counts[j]), groups[j],
                                 int(num_samples[j]), int(num_correct[j]), acc])
        self.last_csv_path = path
        MMLogger.get_current_instance().info(f'LongTailAccuracy: per-class accuracy -> {path}')
