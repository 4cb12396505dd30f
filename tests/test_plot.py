"""tools/analysis/plot_lt_accuracy.py on CSVs written by LongTailAccuracy."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmpretrain.structures import DataSample

import mmlt  # noqa: F401
from mmlt.evaluation.metrics import LongTailAccuracy

TOOL = Path(__file__).resolve().parents[1] / 'tools' / 'analysis' / 'plot_lt_accuracy.py'


def load_tool():
    spec = importlib.util.spec_from_file_location('plot_lt_accuracy', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_metric_csv(out_dir, counts, accuracy_of_class, per_class=10, seed=0):
    """Run the metric on synthetic predictions; class c is right with prob. accuracy_of_class(c)."""
    rng = np.random.default_rng(seed)
    num_classes = len(counts)
    samples = []
    for c in range(num_classes):
        for i in range(per_class):
            score = torch.rand(num_classes, generator=torch.Generator().manual_seed(c * 100 + i))
            score[c] = 2.0 if rng.random() < accuracy_of_class(c) else -1.0
            samples.append(DataSample().set_gt_label(c).set_pred_score(score))
    evaluator = Evaluator([LongTailAccuracy(class_counts=list(counts), out_dir=str(out_dir))])
    evaluator.dataset_meta = dict(classes=[f'class{c}' for c in range(num_classes)],
                                  class_counts=list(counts))
    evaluator.process(samples)
    return evaluator.evaluate(len(samples)), Path(out_dir) / 'per_class_accuracy.csv'


@pytest.fixture(scope='module')
def csvs(tmp_path_factory):
    root = tmp_path_factory.mktemp('plot')
    counts = (600 * np.exp(-np.linspace(0, 5.5, 80))).astype(int) + 2  # 602 ... 4, long-tailed
    rng = np.random.default_rng(1)
    counts = counts[rng.permutation(len(counts))]  # the CSV is not ordered by count
    head_bias = lambda c: 0.2 + 0.7 * np.log(counts[c]) / np.log(counts.max())  # noqa: E731
    balanced = lambda c: 0.55  # noqa: E731
    res_a, a = write_metric_csv(root / 'ce', counts, head_bias)
    res_b, b = write_metric_csv(root / 'dscl', counts, balanced, seed=2)
    return dict(a=a, b=b, res_a=res_a, counts=counts)


def test_read_csv_matches_metric(csvs):
    tool = load_tool()
    table = tool.read_per_class_csv(csvs['a'])
    assert table['train_count'].tolist() == csvs['counts'].tolist()
    # group means recomputed from the CSV equal the metric's
    for group in ('many', 'medium', 'few'):
        acc = table['accuracy'][table['group'] == group]
        assert np.nanmean(acc) == pytest.approx(csvs['res_a'][f'accuracy/{group}'], abs=1e-3)


@pytest.mark.parametrize('which', ['single', 'compare'])
def test_writes_png(csvs, tmp_path, which):
    tool = load_tool()
    paths = [csvs['a']] if which == 'single' else [csvs['a'], csvs['b']]
    out = tool.plot_lt_accuracy(paths, labels=['CE', 'DSCL'][:len(paths)],
                                out=tmp_path / f'{which}.png', title='synthetic LT, 80 classes')
    data = out.read_bytes()
    assert data[:8] == b'\x89PNG\r\n\x1a\n'
    assert 30_000 < len(data) < 2_000_000
    import matplotlib.image as mpimg
    img = mpimg.imread(out)
    assert img.shape[0] > 500 and img.shape[1] > 1000
    assert img[..., :3].std() > 0.05  # not a blank canvas


def test_cli_and_errors(csvs, tmp_path):
    tool = load_tool()
    out = tmp_path / 'cli.png'
    tool.main([str(csvs['a']), str(csvs['b']), '--labels', 'CE', 'DSCL', '--out', str(out),
               '--title', 'cli'])
    assert out.stat().st_size > 30_000
    with pytest.raises(ValueError, match='1 labels for 2 CSVs'):
        tool.plot_lt_accuracy([csvs['a'], csvs['b']], labels=['x'], out=tmp_path / 'x.png')
    bad = tmp_path / 'bad.csv'
    bad.write_text(csvs['a'].read_text().replace(',few,', ',tiny,', 1))
    with pytest.raises(ValueError, match=r'bad.csv:\d+: group'):
        tool.read_per_class_csv(bad)


def test_moving_average_ignores_nan():
    tool = load_tool()
    values = np.array([0.0, np.nan, 30.0, 60.0, np.nan])
    np.testing.assert_allclose(tool.moving_average(values, 3), [0, 15, 45, 45, 60])
    # an even window is widened to stay centred
    np.testing.assert_allclose(tool.moving_average(np.array([0.0, 10, 20, 30]), 2), [5, 10, 20, 25])
