"""tools/analysis/analyze_logs.py and tools/analysis/confusion_matrix.py on hand-made inputs."""
import csv
import importlib.util
import json
from pathlib import Path

import matplotlib.image as mpimg
import mmengine
import numpy as np
import pytest
import torch
from mmpretrain.structures import DataSample

TOOLS = Path(__file__).resolve().parents[1] / 'tools' / 'analysis'
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


def load_tool(name):
    spec = importlib.util.spec_from_file_location(name, TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_png(path, min_height=300):
    path = Path(path)
    assert path.read_bytes()[:8] == PNG_MAGIC
    img = mpimg.imread(path)
    assert img.shape[0] >= min_height
    assert img[..., :3].std() > 0.05  # not a blank canvas


# --------------------------------------------------------------------------------------------
# analyze_logs.py
# --------------------------------------------------------------------------------------------

def train_rec(epoch, step, loss, time, data_time=0.1):
    return dict(lr=0.1, data_time=data_time, loss=loss, loss_dscl=loss / 2, loss_pbsd=loss / 2,
                time=time, epoch=epoch, iter=step, step=step)


def eval_rec(epoch, top1):
    return {'accuracy/top1': top1, 'accuracy/many': top1 + 5, 'accuracy/medium': top1 - 5,
            'accuracy/few': float('nan'), 'accuracy/mean_class': top1, 'data_time': 0.3,
            'time': 9.0, 'step': epoch}


def write_scalars(folder, records, tail=''):
    path = Path(folder) / 'vis_data' / 'scalars.json'
    path.parent.mkdir(parents=True)
    path.write_text(''.join(json.dumps(r) + '\n' for r in records) + tail)
    return path


@pytest.fixture
def resumed_run(tmp_path):
    """A by-epoch run, 3 records per epoch (10 iterations apart, 30 per epoch), checkpoint
    every 2 epochs. The first folder ran epochs 1-3 and was killed in epoch 4 while writing a
    line; the second resumed from the epoch-2 checkpoint and re-ran epoch 3 (training steps
    70-90 and its evaluation). Then tools/test.py ran twice in the work dir: with LongTailPlotHook
    (test metrics as ``test/...`` scalars at step 0) and without (no scalars.json)."""
    work_dir = tmp_path / 'dscl'
    first = [
        train_rec(1, 10, 5.0, 3.0, 0.5), train_rec(1, 20, 4.8, 1.0), train_rec(1, 30, 4.6, 1.2),
        eval_rec(1, 10.0),
        train_rec(2, 40, 4.4, 2.0, 0.5), train_rec(2, 50, 4.2, 1.1), train_rec(2, 60, 4.0, 0.9),
        eval_rec(2, 20.0),
        train_rec(3, 70, 9.0, 2.5, 0.5), train_rec(3, 80, 9.0, 1.0), train_rec(3, 90, 9.0, 1.05),
        eval_rec(3, 30.0),
        train_rec(4, 100, 9.0, 2.6, 0.5)]
    second = [
        train_rec(3, 70, 3.8, 4.0, 0.5), train_rec(3, 80, 3.6, 1.3), train_rec(3, 90, 3.4, 1.5),
        eval_rec(3, 35.0),
        train_rec(4, 100, 3.2, 2.2, 0.5), train_rec(4, 110, 3.0, 1.4),
        train_rec(4, 120, 2.8, 1.6),
        eval_rec(4, 40.0)]
    write_scalars(work_dir / '20240101_000000', first, tail='{"lr": 0.1, "loss": 8.')
    write_scalars(work_dir / '20240102_000000', second)
    write_scalars(work_dir / '20240103_000000',
                  [{'test/accuracy/top1': 41.0, 'test/accuracy/few': float('nan'), 'step': 0}])
    (work_dir / '20240104_000000' / 'vis_data').mkdir(parents=True)
    (work_dir / '20240104_000000' / 'vis_data' / 'config.py').write_text('')
    return work_dir


def test_resumed_run_is_joined(resumed_run):
    tool = load_tool('analyze_logs')
    with pytest.warns(UserWarning, match=r'20240101_000000.*scalars\.json:14: truncated'):
        run = tool.load_run(resumed_run)
    assert run.name == 'dscl'
    assert [f.parent.parent.name for f in run.files] == [
        '20240101_000000', '20240102_000000', '20240103_000000']
    x, y, label = run.series('loss')
    assert label == 'iteration'
    assert x.tolist() == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]
    # the re-run steps 70-100 keep the resumed folder's records
    assert y.tolist() == pytest.approx([5.0, 4.8, 4.6, 4.4, 4.2, 4.0, 3.8, 3.6, 3.4, 3.2, 3.0, 2.8])
    x, y, label = run.series('top1')  # short for accuracy/top1
    assert label == 'epoch'
    assert x.tolist() == [1, 2, 3, 4]
    assert y.tolist() == [10.0, 20.0, 35.0, 40.0]
    assert run.series('many')[1].tolist() == [15.0, 25.0, 40.0, 45.0]
    assert np.isnan(run.series('accuracy/few')[1]).all()
    assert run.resumed_at == [70]
    # the test metrics stay apart from the validation curves
    x, y, label = run.series('test/accuracy/top1')
    assert (x.tolist(), y.tolist(), label) == ([0], [41.0], 'step')
    # a timestamp folder or its JSON alone is one segment
    single = tool.load_run(resumed_run / '20240102_000000')
    assert single.name == 'dscl'
    assert single.series('loss')[0].tolist() == [70, 80, 90, 100, 110, 120]
    assert tool.load_run(resumed_run / '20240102_000000' / 'vis_data' / 'scalars.json'
                         ).series('top1')[1].tolist() == [35.0, 40.0]


def test_restart_from_scratch_keeps_the_latest_folder(tmp_path):
    tool = load_tool('analyze_logs')
    work_dir = tmp_path / 'ce'
    write_scalars(work_dir / '20240101_000000',
                  [train_rec(1, 10, 5.0, 1.0), train_rec(1, 20, 4.0, 1.0), eval_rec(1, 10.0),
                   train_rec(2, 30, 3.0, 1.0), eval_rec(2, 20.0)])
    write_scalars(work_dir / '20240105_000000', [train_rec(1, 10, 7.0, 1.0), eval_rec(1, 11.0)])
    run = tool.load_run(work_dir)
    assert run.series('loss')[1].tolist() == [7.0]
    assert run.series('top1')[1].tolist() == [11.0]
    assert run.resumed_at == []


def test_train_time_against_hand_computed(resumed_run):
    tool = load_tool('analyze_logs')
    with pytest.warns(UserWarning):
        run = tool.load_run(resumed_run)
    # left out: the first record of every epoch (steps 10, 40, 70, 100) and of every folder
    # (10, 70); the evaluation records' time (9.0) never counts
    stats = tool.train_time(run, batch_size=64)
    assert stats['epoch_times'] == pytest.approx({1: 1.1, 2: 1.0, 3: 1.4, 4: 1.5})
    assert stats['avg_iter_time'] == pytest.approx(10.0 / 8)
    assert stats['avg_data_time'] == pytest.approx(0.1)
    assert (stats['num_records'], stats['num_left_out']) == (8, 4)
    assert (stats['slowest_epoch'], stats['fastest_epoch']) == (4, 2)
    assert stats['epoch_std'] == pytest.approx(np.sqrt(0.0425))
    assert stats['img_per_s'] == pytest.approx(64 / 1.25)

    stats = tool.train_time(run, include_outliers=True)
    assert stats['avg_iter_time'] == pytest.approx(21.2 / 12)
    assert stats['epoch_times'][3] == pytest.approx(6.8 / 3)
    assert (stats['slowest_epoch'], stats['fastest_epoch']) == (3, 2)
    assert stats['img_per_s'] is None


def test_one_record_per_epoch_keeps_it(tmp_path):
    """An epoch logged once (fewer iterations than the log interval) is not left empty."""
    tool = load_tool('analyze_logs')
    path = write_scalars(tmp_path / 'r' / '20240101_000000',
                         [train_rec(1, 48, 1.0, 2.0), train_rec(2, 96, 1.0, 3.0),
                          train_rec(3, 144, 1.0, 4.0)])
    stats = tool.train_time(tool.load_run(path))
    assert stats['epoch_times'] == pytest.approx({1: 2.0, 2: 3.0, 3: 4.0})
    assert stats['avg_iter_time'] == pytest.approx(3.0)


def test_iteration_based_json(tmp_path):
    tool = load_tool('analyze_logs')
    path = tmp_path / 'iter_run.json'
    records = [dict(lr=0.1, loss=2.0, time=5.0, iter=100, step=100),
               dict(lr=0.1, loss=1.5, time=1.0, iter=200, step=200),
               dict(lr=0.1, loss=1.0, time=2.0, iter=300, step=300),
               {'accuracy/top1': 50.0, 'step': 300}]
    path.write_text('\n'.join(json.dumps(r) for r in records) + '\n')
    run = tool.load_run(path)
    assert not run.by_epoch
    assert run.series('top1')[2] == 'iteration'
    stats = tool.train_time(run)  # only the folder's first record is an outlier
    assert stats['avg_iter_time'] == pytest.approx(1.5)
    assert stats['epoch_times'] == {} and stats['slowest_epoch'] is None


def test_plot_curve_writes_png(resumed_run, tmp_path, capsys):
    tool = load_tool('analyze_logs')
    other = tmp_path / 'other.json'
    other.write_text('\n'.join(json.dumps(r) for r in [
        train_rec(1, 10, 6.0, 1.0), train_rec(1, 20, 5.0, 1.0), eval_rec(1, 12.0),
        train_rec(2, 30, 4.5, 1.0), eval_rec(2, 18.0)]))
    out = tmp_path / 'figs' / 'curves.png'
    with pytest.warns(UserWarning):
        result = tool.main(['plot_curve', str(resumed_run), str(other), '--keys', 'loss',
                            'loss_dscl', 'top1', 'few', '--legend', 'DSCL', 'CE', '--out',
                            str(out), '--title', 'synthetic'])
    assert result == out and f'saved {out}' in capsys.readouterr().out
    assert_png(out, min_height=1000)  # four panels


def test_missing_key_and_file_errors(resumed_run, tmp_path):
    tool = load_tool('analyze_logs')
    with pytest.warns(UserWarning):
        run = tool.load_run(resumed_run)
    with pytest.raises(ValueError) as err:
        run.series('loss_foo')
    msg = str(err.value)
    assert 'key "loss_foo" is not in' in msg and '20240102_000000' in msg
    assert 'loss_dscl' in msg and 'accuracy/top1' in msg  # the keys that exist
    with pytest.raises(SystemExit) as err, pytest.warns(UserWarning):
        tool.main(['plot_curve', str(resumed_run), '--keys', 'top5', '--out',
                   str(tmp_path / 'x.png')])
    assert 'key "top5" is not in' in str(err.value) and 'accuracy/top1' in str(err.value)
    assert not (tmp_path / 'x.png').exists()
    with pytest.raises(SystemExit, match=r'20240104_000000: no scalars\.json'):
        tool.main(['cal_train_time', str(resumed_run / '20240104_000000')])  # a test run
    with pytest.raises(ValueError, match=r'"time" is not in the training records.*none'):
        tool.train_time(tool.load_run(resumed_run / '20240103_000000'))
    ambiguous = tmp_path / 'amb.json'
    ambiguous.write_text(json.dumps({'accuracy/top1': 1.0, 'single-label/top1': 2.0,
                                     'step': 1}) + '\n')
    with pytest.raises(ValueError, match='ambiguous'):
        tool.load_run(ambiguous).series('top1')
    bad = tmp_path / 'bad.json'
    bad.write_text('{"loss": 1, "step": 1}\nnot json\n{"loss": 1, "step": 2}\n')
    with pytest.raises(ValueError, match=r'bad\.json:2: not a JSON object'):
        tool.load_run(bad)
    no_time = tmp_path / 'no_time.json'
    no_time.write_text(json.dumps(dict(lr=0.1, loss=1.0, iter=1, step=1)) + '\n')
    with pytest.raises(ValueError, match=r'"time" is not in .*no_time\.json.*lr, loss'):
        tool.train_time(tool.load_run(no_time))


def test_cal_train_time_cli(resumed_run, capsys):
    tool = load_tool('analyze_logs')
    with pytest.warns(UserWarning):
        tool.main(['cal_train_time', str(resumed_run), '--batch-size', '64'])
    out = capsys.readouterr().out
    assert f'Analyze train time of {resumed_run}' in out
    assert 'slowest epoch 4, average time is 1.5000 s/iter' in out
    assert 'fastest epoch 2, average time is 1.0000 s/iter' in out
    assert 'average iter time: 1.2500 s/iter (8 records, 4 outliers left out)' in out
    assert 'throughput: 51.2 img/s at batch size 64' in out


# --------------------------------------------------------------------------------------------
# confusion_matrix.py
# --------------------------------------------------------------------------------------------

CLASSES = ['cat', 'dog', 'owl', 'ant']
TRAIN_COUNTS = [150, 30, 5, 200]  # Many, Medium, Few, Many; head-first order: ant cat dog owl
# (true class, predicted class) of every test image
PAIRS = ([(0, 0), (0, 0), (0, 3), (0, 1)] + [(1, 1), (1, 0), (1, 3), (1, 2)] +
         [(2, 2), (2, 0), (2, 0), (2, 3), (2, 1)] + [(3, 3), (3, 3), (3, 0)])
HEAD_FIRST = [3, 0, 1, 2]
# rows: true class, columns: predicted class, both head first (ant, cat, dog, owl)
EXPECTED_CSV = [['3', 'ant', '200', 'many', '3', '2', '1', '0', '0'],
                ['0', 'cat', '150', 'many', '4', '1', '2', '1', '0'],
                ['1', 'dog', '30', 'medium', '4', '1', '1', '1', '1'],
                ['2', 'owl', '5', 'few', '5', '1', '2', '1', '1']]


def write_lists(root):
    root.mkdir(parents=True, exist_ok=True)
    lines = [f'train/{CLASSES[c]}/{i}.jpg {c}\n' for c, n in enumerate(TRAIN_COUNTS)
             for i in range(n)]
    (root / 'train.txt').write_text(''.join(lines))
    (root / 'test.txt').write_text(''.join(f'test/{CLASSES[g]}/{i}.jpg {g}\n'
                                           for i, (g, _) in enumerate(PAIRS)))


def write_config(path, root, source):
    """A config of the 4 classes; the training counts come from ``source``."""
    if source == 'train_labels':  # mmpretrain datasets: no class_counts in the metainfo
        common = "type='CustomDataset', data_prefix='', with_label=True"
        test_extra = ''
    else:
        common = "type='LTListDataset'"
        test_extra = "train_ann_file='train.txt', " if source == 'test_meta' else ''
    path.write_text(
        "default_scope = 'mmpretrain'\n"
        "custom_imports = dict(imports=['mmlt'], allow_failed_imports=False)\n"
        f'classes = {CLASSES!r}\n'
        f"train_dataloader = dict(dataset=dict({common}, data_root={str(root)!r}, "
        "ann_file='train.txt', classes=classes, pipeline=[]))\n"
        f"test_dataloader = dict(dataset=dict({common}, data_root={str(root)!r}, "
        f"ann_file='test.txt', classes=classes, {test_extra}"
        f"{'test_mode=True, ' if source != 'train_labels' else ''}pipeline=[]))\n")
    return path


def write_predictions(path, num_classes=4, scores=True):
    samples = []
    for i, (gt, pred) in enumerate(PAIRS):
        sample = DataSample(metainfo=dict(img_path=f'{i}.jpg')).set_gt_label(gt)
        if scores:
            score = torch.full((num_classes, ), 0.1)
            score[pred] = 0.7
            sample.set_pred_score(score)
        sample.set_pred_label(pred)
        samples.append(sample.to_dict())
    mmengine.dump(samples, str(path))
    return path


@pytest.fixture(scope='module')
def lt_lists(tmp_path_factory):
    root = tmp_path_factory.mktemp('cm')
    write_lists(root / 'data')
    return root


@pytest.mark.parametrize('source', ['test_meta', 'train_meta', 'train_labels'])
def test_confusion_from_pickle(lt_lists, tmp_path, source, capsys):
    tool = load_tool('confusion_matrix')
    cfg = write_config(tmp_path / f'{source}.py', lt_lists / 'data', source)
    pkl = write_predictions(tmp_path / 'preds.pkl', scores=source != 'train_labels')
    res = tool.main([str(cfg), '--pred', str(pkl), '--out-dir', str(tmp_path / 'out')])
    out = capsys.readouterr().out

    assert res['counts'].tolist() == TRAIN_COUNTS
    expected = np.zeros((4, 4), dtype=int)
    for gt, pred in PAIRS:
        expected[gt, pred] += 1
    assert res['cm'].tolist() == expected.tolist()
    with open(res['csv'], newline='') as f:
        rows = list(csv.reader(f))
    assert rows[0] == ['class_index', 'class_name', 'train_count', 'group', 'num_samples',
                       'pred_3', 'pred_0', 'pred_1', 'pred_2']
    assert rows[1:] == EXPECTED_CSV

    summary = res['summary']
    # Many (cat, ant): 7 images, 6 predicted as cat/ant, 1 as dog
    assert summary['many']['num_samples'] == 7 and summary['many']['num_classes'] == 2
    assert summary['many']['as_many'] == pytest.approx(6 / 7)
    assert summary['many']['as_medium'] == pytest.approx(1 / 7)
    assert summary['many']['as_few'] == 0
    assert summary['many']['mean_class_acc'] == pytest.approx((2 / 4 + 2 / 3) / 2)
    assert [summary['medium'][k] for k in ('as_many', 'as_medium', 'as_few')] == \
        pytest.approx([2 / 4, 1 / 4, 1 / 4])
    assert [summary['few'][k] for k in ('as_many', 'as_medium', 'as_few')] == \
        pytest.approx([3 / 5, 1 / 5, 1 / 5])
    assert summary['few']['mean_class_acc'] == pytest.approx(1 / 5)
    assert ('Head bias: 50.00% of the Medium-shot and 60.00% of the Few-shot test images are '
            'predicted as a Many-shot class.') in out
    assert 'Many            2        7    58.33%    85.71%     14.29%    0.00%' in out
    where = {'test_meta': "test dataset metainfo['class_counts']",
             'train_meta': "training dataset metainfo['class_counts']",
             'train_labels': 'labels of the training dataset (385 images)'}[source]
    assert where in out
    assert res['txt'].read_text().strip() in out
    assert_png(res['png'])


def test_confusion_values_and_many_classes(tmp_path):
    tool = load_tool('confusion_matrix')
    cfg = write_config(tmp_path / 'cfg.py', tmp_path / 'data', 'test_meta')
    write_lists(tmp_path / 'data')
    pkl = write_predictions(tmp_path / 'p.pkl')
    res = tool.main([str(cfg), '--pred', str(pkl), '--include-values', '--title', 'tiny'])
    assert res['png'] == tmp_path / 'confusion_matrix.png'  # beside the pickle by default
    assert_png(res['png'])
    # 60 classes from 500 to 2 training images: no tick labels, all three groups
    rng = np.random.default_rng(0)
    counts = np.round(500 * np.exp(-np.linspace(0, 5.5, 60))).astype(int)
    cm = rng.integers(0, 3, (60, 60)) + np.diag(rng.integers(5, 20, 60))
    fig = tool.draw_confusion_matrix(cm, counts, [f'c{j}' for j in range(60)])
    assert fig.axes[0].get_xticks().size == 0
    fig.savefig(tmp_path / 'big.png')
    assert_png(tmp_path / 'big.png')
    summary = tool.group_summary(cm, counts)
    assert sum(summary[g]['num_classes'] for g in ('many', 'medium', 'few')) == 60
    assert sum(summary[g]['num_samples'] for g in ('many', 'medium', 'few')) == cm.sum()


def test_confusion_errors(lt_lists, tmp_path):
    tool = load_tool('confusion_matrix')
    cfg = write_config(tmp_path / 'cfg.py', lt_lists / 'data', 'test_meta')
    pkl = write_predictions(tmp_path / 'preds5.pkl', num_classes=5)
    with pytest.raises(SystemExit) as err:
        tool.main([str(cfg), '--pred', str(pkl), '--out-dir', str(tmp_path / 'out')])
    msg = str(err.value)
    assert 'preds5.pkl: the predictions have 5 classes' in msg and 'cfg.py' in msg
    assert 'has 4' in msg
    assert not (tmp_path / 'out' / 'confusion_matrix.csv').exists()

    labels_only = tmp_path / 'labels.pkl'  # predicted labels of a 6-class model
    mmengine.dump([dict(gt_label=torch.tensor([1]), pred_label=torch.tensor([5]))],
                  str(labels_only))
    with pytest.raises(SystemExit, match=r'labels\.pkl: pred_label 5 outside \[0, 4\) '
                       r'\(.*cfg\.py .* has 4 classes\)'):
        tool.main([str(cfg), '--pred', str(labels_only)])

    not_preds = tmp_path / 'metrics.pkl'
    mmengine.dump({'accuracy/top1': 50.0}, str(not_preds))
    with pytest.raises(SystemExit, match=r'metrics\.pkl: expected the non-empty list'):
        tool.main([str(cfg), '--pred', str(not_preds)])
    with pytest.raises(SystemExit):  # neither or both of CHECKPOINT and --pred
        tool.main([str(cfg)])


def test_confusion_from_checkpoint(tmp_path, cifar10_jpeg_root):
    """CONFIG CHECKPOINT runs the test loop with ConfusionMatrix next to LongTailAccuracy."""
    from _utils import small_cfg
    from mmengine.runner import Runner
    from mmpretrain.registry import DATASETS
    tool = load_tool('confusion_matrix')
    cfg = small_cfg('decoupled/ce_resnet32_1xb128-200e_cifar10-lt-r100.py', tmp_path / 'train',
                    cifar10_jpeg_root, num_images=40, batch_size=20)
    ckpt = tmp_path / 'init.pth'
    torch.save({'state_dict': Runner.from_cfg(cfg).model.state_dict(), 'meta': {}}, ckpt)
    cfg_file = tmp_path / 'cfg.py'
    cfg.dump(str(cfg_file))
    res = tool.main([str(cfg_file), str(ckpt), '--out-dir', str(tmp_path / 'out'),
                     '--work-dir', str(tmp_path / 'test')])
    assert res['counts'].tolist() == [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
    test_set = DATASETS.build(dict(cfg.test_dataloader.dataset, pipeline=[]))
    gt = np.bincount(test_set.get_gt_labels(), minlength=10)
    assert res['cm'].sum(1).tolist() == gt.tolist()
    # the diagonal agrees with the LongTailAccuracy run in the same test loop
    top1 = 100 * np.trace(res['cm']) / res['cm'].sum()
    assert top1 == pytest.approx(res['metrics']['accuracy/top1'])
    assert_png(res['png'])
