"""LongTailAccuracy against numbers computed by hand."""
import csv
import math

import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.logging import MMLogger
from mmpretrain.structures import DataSample

import mmlt  # noqa: F401
from mmlt.evaluation.metrics import LongTailAccuracy, shot_groups

NUM_CLASSES = 6
# training counts; default thresholds (many > 100, few < 20) give
# many {0, 1}, medium {2, 3} (100 and 20 are the inclusive edges), few {4, 5}
TRAIN_COUNTS = [150, 101, 100, 20, 19, 3]
CLASSES = ('cat', 'dog', 'emu', 'fox', 'gnu', 'hen')

# (gt, top-1 correct?, gt within top-5?) -- class 3 has no evaluation sample
SAMPLES = [
    (0, True, True), (0, True, True), (0, False, True),
    (1, False, False),
    (2, True, True), (2, False, True),
    (4, False, True), (4, False, False),
    (5, True, True),
]


def make_sample(gt, correct, in_top5):
    score = torch.linspace(0.5, 0.1, NUM_CLASSES)  # class 0 best ... class 5 worst
    order = list(range(NUM_CLASSES))
    order.remove(gt)
    if correct:
        ranking = [gt] + order
    elif in_top5:
        ranking = [order[0], gt] + order[1:]
    else:
        ranking = order + [gt]  # gt scored lowest: outside the top 5 of 6
    pred = torch.empty(NUM_CLASSES)
    pred[ranking] = score
    return DataSample().set_gt_label(gt).set_pred_score(pred.softmax(0))


def evaluate(metric, meta=None, samples=SAMPLES):
    evaluator = Evaluator([metric])
    evaluator.dataset_meta = meta
    evaluator.process([make_sample(*s) for s in samples])
    return evaluator.evaluate(len(samples))


def test_hand_computed_values(tmp_path):
    metric = LongTailAccuracy(out_dir=str(tmp_path))
    res = evaluate(metric, dict(classes=CLASSES, class_counts=TRAIN_COUNTS))
    # top-1: 4 of 9 correct; top-5: 4 + 3 more within top 5 = 7 of 9
    # per class: c0 2/3, c1 0/1, c2 1/2, c3 absent, c4 0/2, c5 1/1
    expected = {
        'accuracy/top1': 400 / 9,
        'accuracy/top5': 700 / 9,
        'accuracy/many': (200 / 3 + 0) / 2,
        'accuracy/medium': 50.0,  # class 3 is absent from the evaluation set
        'accuracy/few': (0 + 100) / 2,
        'accuracy/mean_class': (200 / 3 + 0 + 50 + 0 + 100) / 5,
    }
    assert res.keys() == expected.keys()
    for key, value in expected.items():
        assert res[key] == pytest.approx(value), key

    with open(tmp_path / 'per_class_accuracy.csv') as f:
        rows = list(csv.reader(f))
    assert rows[0] == ['class_index', 'class_name', 'train_count', 'group',
                       'num_samples', 'num_correct', 'accuracy']
    assert rows[1:] == [
        ['0', 'cat', '150', 'many', '3', '2', '66.6667'],
        ['1', 'dog', '101', 'many', '1', '0', '0.0000'],
        ['2', 'emu', '100', 'medium', '2', '1', '50.0000'],
        ['3', 'fox', '20', 'medium', '0', '0', ''],
        ['4', 'gnu', '19', 'few', '2', '0', '0.0000'],
        ['5', 'hen', '3', 'few', '1', '1', '100.0000'],
    ]


def test_explicit_counts_thresholds_prefix_and_empty_group(tmp_path):
    # many > 60: {0, 1, 2}; few < 10: {5}; medium: {3, 4}
    metric = LongTailAccuracy(topk=1, many_thr=60, few_thr=10, class_counts=TRAIN_COUNTS,
                              out_dir=str(tmp_path), prefix='lt')
    res = evaluate(metric)
    assert set(res) == {'lt/top1', 'lt/many', 'lt/medium', 'lt/few', 'lt/mean_class'}
    assert res['lt/many'] == pytest.approx((200 / 3 + 0 + 50) / 3)
    assert res['lt/medium'] == pytest.approx(0.0)  # only class 4 (0/2) is evaluated
    assert res['lt/few'] == pytest.approx(100.0)
    # no class has fewer than 1 training image -> Few is NaN, not a crash
    res = evaluate(LongTailAccuracy(few_thr=1, class_counts=TRAIN_COUNTS, out_dir=str(tmp_path)))
    assert math.isnan(res['accuracy/few'])
    assert res['accuracy/medium'] == pytest.approx((50 + 0 + 100) / 3)  # evaluated: 2, 4, 5
    # class names fall back to '' without dataset_meta
    with open(tmp_path / 'per_class_accuracy.csv') as f:
        assert list(csv.DictReader(f))[0]['class_name'] == ''


def test_shot_groups_edges():
    assert shot_groups([101, 100, 20, 19], 100, 20).tolist() == ['many', 'medium', 'medium', 'few']


def test_top5_dropped_with_fewer_classes(tmp_path):
    samples = [DataSample().set_gt_label(g).set_pred_score(torch.tensor(p))
               for g, p in [(0, [0.9, 0.1, 0.0]), (2, [0.5, 0.2, 0.3])]]
    evaluator = Evaluator([LongTailAccuracy(class_counts=[5, 5, 5], out_dir=str(tmp_path))])
    evaluator.process(samples)
    res = evaluator.evaluate(2)
    assert 'accuracy/top5' not in res and res['accuracy/top1'] == pytest.approx(50.0)


def test_errors(tmp_path):
    with pytest.raises(ValueError, match='class_counts'):
        evaluate(LongTailAccuracy(out_dir=str(tmp_path)), dict(classes=CLASSES))
    with pytest.raises(ValueError, match='5 classes but pred_score has 6'):
        evaluate(LongTailAccuracy(class_counts=[1] * 5, out_dir=str(tmp_path)))
    with pytest.raises(ValueError, match='few_thr'):
        LongTailAccuracy(many_thr=10, few_thr=20)


def test_default_out_dir_is_log_dir(tmp_path):
    log_dir = tmp_path / 'work_dir' / '20260101_000000'
    log_dir.mkdir(parents=True)
    MMLogger.get_instance('test_lt_metric_logdir', log_file=str(log_dir / 'run.log'))
    evaluate(LongTailAccuracy(), dict(class_counts=TRAIN_COUNTS))
    assert (log_dir / 'per_class_accuracy.csv').exists()
