# Copyright (c) mmlt contributors. All rights reserved.
"""COCO box AP with LVIS's rare / common / frequent breakdown, for any COCO-format set."""
import contextlib
import csv
import io
import os
import os.path as osp
import tempfile
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmdet.datasets.api_wrappers import COCO, COCOeval, COCOevalMP
from mmdet.evaluation.metrics import CocoMetric
from mmdet.registry import METRICS
from mmengine.fileio import load
from mmengine.logging import MMLogger

from ..datasets.coco_format import (FREQ_GROUPS, LVIS_FREQ_THRESHOLDS, check_coco,
                                    check_freq_thresholds, frequency_groups, image_counts,
                                    load_json)

CSV_FIELDS = ('class_index', 'category_id', 'class', 'train_count', 'group', 'num_gt', 'AP',
              'AP50')
GROUP_NAMES = {'r': 'rare', 'c': 'common', 'f': 'frequent'}
GROUP_COLORS = {'r': '#55A868', 'c': '#DD8452', 'f': '#4C72B0'}


def per_class_ap(coco_eval: COCOeval) -> Dict[str, np.ndarray]:
    """Per-category AP and AP50 of an accumulated ``COCOeval``.

    ``coco_eval.eval['precision']`` is ``(T, R, K, A, M)`` (IoU thresholds,
    recall thresholds, categories, area ranges, max detections), -1 where a
    category has no ground truth. The AP of category ``k`` is the mean of
    ``precision[:, :, k, 0, m]`` (area ``all``) over the entries > -1, as
    MMDetection's ``classwise`` and detectron2 compute it, and AP50 the same
    on the IoU=0.5 row. The max-detections entry ``m`` is the one of
    pycocotools' summary: 100 detections per image for AP (``stats[0]`` is
    ``_summarize(1)``, whose default is ``maxDets=100``; the last entry when
    100 is not among ``params.maxDets``), ``maxDets[2]`` for AP50 (as
    ``stats[1]``). A category without ground truth gets NaN. Since every
    category with ground truth has the same number of entries, the mean of
    these APs over the categories with ground truth is ``stats[0]`` (and of
    the AP50s ``stats[1]``).

    Returns:
        dict: ``AP`` and ``AP50`` (float arrays, one per ``params.catIds``).
    """
    params = coco_eval.params
    precision = coco_eval.eval['precision']
    max_dets = list(params.maxDets)
    m = max_dets.index(100) if 100 in max_dets else len(max_dets) - 1
    m50 = max_dets.index(max_dets[min(2, len(max_dets) - 1)])
    t50 = np.flatnonzero(np.isclose(params.iouThrs, 0.5))
    num = precision.shape[2]
    ap, ap50 = np.full(num, np.nan), np.full(num, np.nan)
    for k in range(num):
        p = precision[:, :, k, 0, m]
        if (p > -1).any():
            ap[k] = p[p > -1].mean()
        if len(t50):
            p50 = precision[t50[0], :, k, 0, m50]
            if (p50 > -1).any():
                ap50[k] = p50[p50 > -1].mean()
    return dict(AP=ap, AP50=ap50)


@METRICS.register_module()
class LongTailCocoMetric(CocoMetric):
    """COCO box AP plus LVIS-style AP_r / AP_c / AP_f for a long-tailed set.

    Reports (names prefixed ``coco/`` like ``CocoMetric``, values in [0, 1]):

    * ``bbox_mAP`` (AP@[.5:.95]), ``bbox_mAP_50``, ``bbox_mAP_75``,
      ``bbox_mAP_s/m/l``: pycocotools' ``COCOeval.stats`` (not rounded; as
      in ``CocoMetric``, AP counts 100 detections per image, the others
      ``proposal_nums[2]``);
    * ``bbox_AP_r``, ``bbox_AP_c``, ``bbox_AP_f``: the mean of the per-class
      AP (:func:`per_class_ap`) over the classes of each frequency group that
      have ground truth in the evaluation set (NaN for a group without any),
      with the groups of :func:`~mmlt.det.datasets.frequency_groups` from
      the TRAINING image counts (rare <= 10 < common <= 100 < frequent by
      default, LVIS's 1-10 / 11-100 / > 100; ``freq_thresholds``);
    * ``bbox_AP50_r/c/f`` the same for AP50.

    The training counts are found, in this order, from: ``train_ann_file`` (a
    COCO file; a class's count is the number of its images holding one of
    its boxes, LVIS's ``image_count``; classes matched by category name),
    ``class_counts`` (a list in the order of ``dataset_meta['classes']``),
    the ``image_count`` field of every category of the evaluation
    ``ann_file`` (as LVIS and :class:`~mmlt.det.TinyImageNetLTDet`'s files
    carry), or ``dataset_meta['class_counts']`` (mmlt datasets set it).

    A CSV (``class_index, category_id, class, train_count, group, num_gt, AP,
    AP50``) goes to ``out_dir/per_class_file`` and a plot of the per-class AP
    against the training count (head to tail) to ``out_dir/plot_file``;
    ``out_dir`` defaults to the folder of the current logger's log file (the
    run's ``work_dir/<timestamp>/``); without one nothing is written.

    Args:
        ann_file (str, optional): The evaluation set's COCO file (else the
            ground truth is converted from the data samples, as ``CocoMetric``).
        train_ann_file (str, optional): The training set's COCO file.
        class_counts (Sequence[int], optional): Training images per class.
        freq_thresholds (Sequence[int]): ``(rare_max, common_max)``.
            Defaults to (10, 100).
        metric (str | list[str]): ``'bbox'`` and / or ``'segm'``.
            Defaults to ``'bbox'``.
        out_dir (str, optional): Folder of the CSV and the plot.
        per_class_file (str): Defaults to ``'per_class_ap.csv'``.
        plot_file (str, optional): Defaults to ``'per_class_ap.png'``; None
            draws nothing.
        **kwargs: Other arguments of ``CocoMetric`` (``iou_thrs``,
            ``proposal_nums`` (the max detections, 100 / 300 / 1000 by
            default; AP uses the third), ``outfile_prefix``, ``format_only``,
            ``backend_args``, ``collect_device``, ``prefix``, ``use_mp_eval``).
    """
    default_prefix: Optional[str] = 'coco'

    def __init__(self,
                 ann_file: Optional[str] = None,
                 train_ann_file: Optional[str] = None,
                 class_counts: Optional[Sequence[int]] = None,
                 freq_thresholds: Sequence[int] = LVIS_FREQ_THRESHOLDS,
                 metric: Union[str, List[str]] = 'bbox',
                 out_dir: Optional[str] = None,
                 per_class_file: str = 'per_class_ap.csv',
                 plot_file: Optional[str] = 'per_class_ap.png',
                 **kwargs) -> None:
        metrics = metric if isinstance(metric, list) else [metric]
        bad = [m for m in metrics if m not in ('bbox', 'segm')]
        if bad:
            raise KeyError(f"LongTailCocoMetric: metric must be 'bbox' or 'segm', got {bad}")
        kwargs.pop('classwise', None)  # always per class
        super().__init__(ann_file=ann_file, metric=metrics, **kwargs)
        self.freq_thresholds = check_freq_thresholds(freq_thresholds)
        self.train_ann_file = train_ann_file
        self._train_counts_by_name = None
        if train_ann_file is not None:
            train = load_json(train_ann_file)
            check_coco(train, train_ann_file, require_annotations=False, box_tolerance=np.inf)
            counts = image_counts(train)
            self._train_counts_by_name = {c['name']: counts[c['id']] for c in train['categories']}
        self.class_counts = None if class_counts is None else [int(n) for n in class_counts]
        self.out_dir = out_dir
        self.per_class_file = per_class_file
        self.plot_file = plot_file

    # -- training counts -------------------------------------------------
    def _train_counts(self, cats: List[dict]) -> np.ndarray:
        """Training image count of each evaluated category (``cats``, in ``cat_ids`` order)."""
        if self._train_counts_by_name is not None:
            missing = [c['name'] for c in cats if c['name'] not in self._train_counts_by_name]
            if missing:
                raise ValueError(f'{self.train_ann_file}: no category named {missing[0]!r} '
                                 f'({len(missing)} evaluated class(es) missing)')
            return np.array([self._train_counts_by_name[c['name']] for c in cats], np.int64)
        counts = self.class_counts
        if counts is None and cats and all('image_count' in c for c in cats):
            return np.array([int(c['image_count']) for c in cats], np.int64)
        if counts is None:
            counts = (self.dataset_meta or {}).get('class_counts')
        if counts is None:
            raise ValueError(
                'LongTailCocoMetric needs the training images per class: give '
                '`train_ann_file` (the training COCO file), `class_counts=[...]`, an '
                "evaluation ann_file whose categories have 'image_count' (LVIS, "
                "TinyImageNetLTDet), or a dataset with metainfo['class_counts']")
        classes = list((self.dataset_meta or {}).get('classes') or [])
        if len(counts) != len(classes):
            raise ValueError(f'LongTailCocoMetric: class_counts has {len(counts)} entries '
                             f'but the dataset has {len(classes)} classes')
        by_name = dict(zip(classes, counts))
        return np.array([int(by_name[c['name']]) for c in cats], np.int64)

    # -- evaluation --------------------------------------------------------
    def compute_metrics(self, results: list) -> Dict[str, float]:
        """COCO AP of each metric plus the frequency groups; writes the per-class CSV / plot."""
        logger: MMLogger = MMLogger.get_current_instance()
        gts, preds = zip(*results)
        tmp_dir = None
        if self.outfile_prefix is None:
            tmp_dir = tempfile.TemporaryDirectory()
            outfile_prefix = osp.join(tmp_dir.name, 'results')
        else:
            outfile_prefix = self.outfile_prefix
        try:
            if self._coco_api is None:
                self._coco_api = COCO(self.gt_to_coco_json(gts, outfile_prefix))
            if self.cat_ids is None:
                self.cat_ids = self._coco_api.get_cat_ids(
                    cat_names=self.dataset_meta['classes'])
            if self.img_ids is None:
                self.img_ids = self._coco_api.get_img_ids()
            result_files = self.results2json(preds, outfile_prefix)
            eval_results = OrderedDict()
            if self.format_only:
                logger.info(f'results are saved in {osp.dirname(outfile_prefix)}')
                return eval_results
            for metric in self.metrics:
                eval_results.update(self._evaluate(metric, result_files, logger))
        finally:
            if tmp_dir is not None:
                tmp_dir.cleanup()
        return eval_results

    def _evaluate(self, metric: str, result_files: dict, logger) -> Dict[str, float]:
        cats = self._coco_api.loadCats(self.cat_ids)
        counts = self._train_counts(cats)
        groups = frequency_groups(counts, self.freq_thresholds)
        predictions = load(result_files[metric])
        if metric == 'segm':
            for x in predictions:  # mask areas, as CocoMetric
                x.pop('bbox')
        if predictions:
            coco_dt = self._coco_api.loadRes(predictions)
        else:  # no detection at all: every AP is 0 (pycocotools' loadRes fails on [])
            coco_dt = COCO()
            coco_dt.dataset = dict(images=self._coco_api.dataset['images'], annotations=[],
                                   categories=self._coco_api.dataset['categories'])
            coco_dt.createIndex()
        coco_eval = (COCOevalMP if self.use_mp_eval else COCOeval)(self._coco_api, coco_dt,
                                                                   metric)
        coco_eval.params.catIds = self.cat_ids
        coco_eval.params.imgIds = self.img_ids
        coco_eval.params.maxDets = list(self.proposal_nums)
        coco_eval.params.iouThrs = self.iou_thrs
        coco_eval.evaluate()
        coco_eval.accumulate()
        summary = io.StringIO()
        with contextlib.redirect_stdout(summary):
            coco_eval.summarize()
        logger.info('\n' + summary.getvalue())
        stats = coco_eval.stats
        res = OrderedDict()
        for i, name in enumerate(('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l')):
            res[f'{metric}_{name}'] = float(stats[i])
        per_class = per_class_ap(coco_eval)
        num_gt = np.array([
            len(self._coco_api.get_ann_ids(img_ids=self.img_ids, cat_ids=[cid], iscrowd=False))
            for cid in self.cat_ids
        ])
        for key, values in (('AP', per_class['AP']), ('AP50', per_class['AP50'])):
            for g in FREQ_GROUPS:
                member = (groups == g) & ~np.isnan(values)
                res[f'{metric}_{key}_{g}'] = float(values[member].mean()) if member.any() \
                    else float('nan')
        logger.info(f'{metric}: AP {res[f"{metric}_mAP"]:.4f}, AP50 '
                    f'{res[f"{metric}_mAP_50"]:.4f}, AP_r {res[f"{metric}_AP_r"]:.4f}, '
                    f'AP_c {res[f"{metric}_AP_c"]:.4f}, AP_f {res[f"{metric}_AP_f"]:.4f} '
                    f'(classes r/c/f: '
                    f'{"/".join(str(int((groups == g).sum())) for g in FREQ_GROUPS)})')
        self._write_per_class(metric, cats, counts, groups, num_gt, per_class, res, logger)
        return res

    # -- outputs -----------------------------------------------------------
    def _out_dir(self) -> Optional[str]:
        if self.out_dir is not None:
            return self.out_dir
        log_file = MMLogger.get_current_instance().log_file
        return None if log_file is None else osp.dirname(log_file)

    def _write_per_class(self, metric, cats, counts, groups, num_gt, per_class, res,
                         logger) -> None:
        out_dir = self._out_dir()
        if out_dir is None:
            return
        os.makedirs(out_dir, exist_ok=True)
        suffix = '' if metric == 'bbox' else f'_{metric}'
        path = osp.join(out_dir, _with_suffix(self.per_class_file, suffix))
        with open(path, 'w', newline='') as f:
            writer = csv.writer(f)
            writer.writerow(CSV_FIELDS)
            for j, cat in enumerate(cats):
                ap, ap50 = per_class['AP'][j], per_class['AP50'][j]
                writer.writerow([j, cat['id'], cat['name'], int(counts[j]), groups[j],
                                 int(num_gt[j]), '' if np.isnan(ap) else f'{ap:.6f}',
                                 '' if np.isnan(ap50) else f'{ap50:.6f}'])
        logger.info(f'LongTailCocoMetric: per-class {metric} AP -> {path}')
        if self.plot_file:
            plot = osp.join(out_dir, _with_suffix(self.plot_file, suffix))
            plot_per_class_ap(counts, per_class['AP'], groups, plot,
                              title=f'{metric} AP per class: AP {res[f"{metric}_mAP"]:.3f}',
                              thresholds=self.freq_thresholds)
            logger.info(f'LongTailCocoMetric: plot -> {plot}')


def _with_suffix(name: str, suffix: str) -> str:
    stem, ext = osp.splitext(name)
    return f'{stem}{suffix}{ext}'


def plot_per_class_ap(train_counts: Sequence[int], ap: Sequence[float], groups: Sequence[str],
                      out: str, title: Optional[str] = None,
                      thresholds: Sequence[int] = LVIS_FREQ_THRESHOLDS) -> str:
    """Bar plot of the per-class AP, classes sorted by training count (head left),
    coloured by frequency group, each group's mean AP as a dotted line and the
    training count as a step line on a log axis.

    ``tools/analysis/plot_lt_accuracy.py`` draws the classification
    counterpart (accuracies in percent, Many/Medium/Few groups); this is its
    AP / rare-common-frequent version.

    Returns:
        str: ``out``.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    counts = np.asarray(train_counts)
    ap = np.asarray(ap, dtype=float)
    groups = np.asarray(groups)
    order = np.lexsort((np.arange(len(counts)), -counts))
    counts, ap, groups = counts[order], ap[order], groups[order]
    x = np.arange(len(counts))
    fig, ax = plt.subplots(figsize=(12, 5), dpi=110)
    ax.bar(x, np.nan_to_num(ap), width=1.0 if len(x) > 50 else 0.8,
           color=[GROUP_COLORS.get(g, '0.5') for g in groups], linewidth=0)
    rare_max, common_max = thresholds
    labels = {'r': f'rare (<= {rare_max})', 'c': f'common ({rare_max + 1}-{common_max})',
              'f': f'frequent (> {common_max})'}
    for g in FREQ_GROUPS:
        members = np.flatnonzero(groups == g)
        if not len(members):
            continue
        values = ap[members]
        mean = np.nanmean(values) if (~np.isnan(values)).any() else np.nan
        ax.hlines(mean, members[0] - 0.5, members[-1] + 0.5, colors=GROUP_COLORS[g],
                  linestyles=':', linewidth=2,
                  label=f'{labels[g]}: {len(members)} classes, mean AP {mean:.3f}')
    ax.set_xlim(-0.5, len(x) - 0.5)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel('AP per class')
    ax.set_xlabel('classes sorted by training images (head \u2192 tail)')
    ax2 = ax.twinx()
    ax2.step(x, np.maximum(counts, 1), where='mid', color='0.25', linestyle='--',
             linewidth=1.4)
    ax2.set_yscale('log')
    ax2.set_ylabel('training images per class (log, dashed)')
    ax.legend(loc='upper right', fontsize=9)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
