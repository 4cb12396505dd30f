"""Dashboards: LongTailPlotHook puts the per-class accuracy plot on the visualizer, MMEngine's
LoggerHook the validation metrics, the hook the test metrics; the TensorBoard switch."""
import argparse
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace

import matplotlib.image as mpimg
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config, DictAction
from mmengine.evaluator import Evaluator
from mmengine.logging import MMLogger
from mmengine.model import BaseModel
from mmengine.registry import VISBACKENDS
from mmengine.runner import Runner
from mmengine.visualization import BaseVisBackend
from mmpretrain.registry import HOOKS
from mmpretrain.structures import DataSample
from torch.utils.data import Dataset

import mmlt  # noqa: F401
from mmlt.engine.hooks import LongTailPlotHook
from mmlt.evaluation.metrics import LongTailAccuracy
from mmlt.visualization import plot_lt_accuracy, render_lt_accuracy

REPO = Path(__file__).resolve().parents[1]
# training counts: classes 0-1 Many (> 100), 2-3 Medium (20-100), 4-5 Few (< 20)
COUNTS = [500, 200, 60, 30, 10, 5]
PER_CLASS = 4
CORRECT = [4, 3, 2, 2, 1, 0]  # right answers of each class: 100, 75, 50, 50, 25, 0 %
EXPECTED = {'accuracy/top1': 50.0, 'accuracy/many': 87.5, 'accuracy/medium': 50.0,
            'accuracy/few': 12.5, 'accuracy/mean_class': 50.0}
NUM_CLASSES = len(COUNTS)


class ToyDataset(Dataset):
    """Class c's i-th image is the one-hot of c when i < CORRECT[c], else of the next class."""
    metainfo = dict(classes=[f'class{c}' for c in range(NUM_CLASSES)], class_counts=COUNTS)

    def __len__(self):
        return NUM_CLASSES * PER_CLASS

    def __getitem__(self, idx):
        c, i = divmod(idx, PER_CLASS)
        shown = c if i < CORRECT[c] else (c + 1) % NUM_CLASSES
        return dict(inputs=F.one_hot(torch.tensor(shown), NUM_CLASSES).float(),
                    data_samples=DataSample().set_gt_label(c))


class ToyClassifier(BaseModel):
    """Identity scores (lr 0 keeps them): the predictions, and the accuracies, are fixed."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(NUM_CLASSES, NUM_CLASSES, bias=False)
        torch.nn.init.eye_(self.fc.weight)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        scores = self.fc(torch.stack(inputs))
        if mode == 'loss':
            labels = torch.cat([s.gt_label for s in data_samples])
            return dict(loss=F.cross_entropy(scores, labels))
        if mode == 'predict':
            return [s.set_pred_score(p) for s, p in zip(data_samples, scores)]
        return scores


@VISBACKENDS.register_module(force=True)
class LTPlotRecordingVisBackend(BaseVisBackend):
    """Keeps every image and scalar dict the visualizer sends it."""

    def __init__(self, save_dir=None):
        super().__init__(save_dir)
        self.images, self.scalars = [], []

    @property
    def experiment(self):
        return self

    def _init_env(self):
        pass

    def add_image(self, name, image, step=0, **kwargs):
        self.images.append((name, np.array(image), step))

    def add_scalars(self, scalar_dict, step=0, file_path=None, **kwargs):
        self.scalars.append((dict(scalar_dict), step))


def loader():
    return dict(dataset=ToyDataset(), batch_size=8, num_workers=0,
                sampler=dict(type='DefaultSampler', shuffle=False),
                collate_fn=dict(type='pseudo_collate'))


def toy_runner(work_dir, train=True, val=True, test=True, metric='LongTailAccuracy',
               vis_backends=None, hooks=(dict(type='LongTailPlotHook'), )):
    """A Runner of ToyClassifier: 2 epochs with validation after each, then a test."""
    evaluator = dict(type=metric, topk=(1, 5))
    kwargs = {}
    if train:
        kwargs.update(train_dataloader=loader(),
                      train_cfg=dict(by_epoch=True, max_epochs=2, val_interval=1),
                      optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.0)))
    if val:
        kwargs.update(val_dataloader=loader(), val_cfg=dict(), val_evaluator=evaluator)
    if test:
        kwargs.update(test_dataloader=loader(), test_cfg=dict(), test_evaluator=evaluator)
    return Runner(
        model=ToyClassifier(),
        work_dir=str(work_dir),
        experiment_name=f'lt_plot_{uuid.uuid4().hex}',  # a fresh visualizer and logger
        default_scope='mmpretrain',
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1),
                           checkpoint=dict(type='CheckpointHook', interval=1, save_last=False,
                                           max_keep_ckpts=1)),
        custom_hooks=list(hooks),
        visualizer=dict(type='UniversalVisualizer',
                        vis_backends=vis_backends or [dict(type='LocalVisBackend'),
                                                      dict(type='LTPlotRecordingVisBackend')]),
        **kwargs)


def recorder(runner):
    return runner.visualizer.get_backend('LTPlotRecordingVisBackend')


def shot_scalars(records, prefix=''):
    """(step, {many, medium, few, ...}) of the records that hold the LongTailAccuracy metrics."""
    return [(step, {k[len(prefix):]: v for k, v in scalars.items() if k.startswith(prefix)})
            for scalars, step in records if f'{prefix}accuracy/many' in scalars]


def assert_plot(image, csv, title):
    """``image`` is the figure of ``csv``, drawn as tools/analysis/plot_lt_accuracy.py draws it."""
    assert image.dtype == np.uint8 and image.shape == (600, 1300, 3)
    assert image.std() > 20  # not a blank canvas
    np.testing.assert_array_equal(image, render_lt_accuracy([csv], title=title, labels=['x']))


def test_val_and_test_reach_the_visualizer(tmp_path):
    runner = toy_runner(tmp_path)
    runner.train()
    rec = recorder(runner)
    log_dir = Path(runner.log_dir)
    csv = log_dir / 'per_class_accuracy.csv'
    assert csv.is_file()

    # the plot of each validation, at the epoch LoggerHook logs the metrics at
    assert [(name, step) for name, _, step in rec.images] == [('per_class_accuracy', 1),
                                                            ('per_class_accuracy', 2)]
    for _, image, step in rec.images:
        assert_plot(image, csv, f'val, epoch {step} (top-1 50.00%)')
    # LocalVisBackend wrote it as PNG
    png = mpimg.imread(log_dir / 'vis_data' / 'vis_image' / 'per_class_accuracy_2.png')
    assert png.shape[:2] == (600, 1300)
    np.testing.assert_allclose(png[..., :3], rec.images[-1][1] / 255, atol=1 / 255)

    # MMEngine's LoggerHook forwards the validation metrics (no copy of them from the hook)
    val = shot_scalars(rec.scalars)
    assert [step for step, _ in val] == [1, 2]
    for _, scalars in val:
        assert scalars == pytest.approx({**scalars, **EXPECTED})
        assert 'accuracy/top5' in scalars

    # test: LoggerHook only dumps the metrics to a JSON file, the hook sends them, prefixed
    runner.test()
    assert shot_scalars(rec.scalars) == val  # no unprefixed record added by the test
    [(step, test)] = shot_scalars(rec.scalars, prefix='test/')
    assert step == 2 and test == pytest.approx({**test, **EXPECTED})
    name, image, step = rec.images[-1]
    assert (name, step, len(rec.images)) == ('test_per_class_accuracy', 2, 3)
    assert_plot(image, csv, 'test, epoch 2 (top-1 50.00%)')
    assert (log_dir / 'vis_data' / 'vis_image' / 'test_per_class_accuracy_2.png').is_file()


def test_test_only_run_steps_at_zero(tmp_path):
    """tools/test.py: no training loop, everything at step 0."""
    runner = toy_runner(tmp_path, train=False, val=False)
    runner.test()
    rec = recorder(runner)
    [(step, test)] = shot_scalars(rec.scalars, prefix='test/')
    assert step == 0 and test == pytest.approx({**test, **EXPECTED})
    [(name, image, step)] = rec.images
    assert (name, step) == ('test_per_class_accuracy', 0)
    assert_plot(image, Path(runner.log_dir) / 'per_class_accuracy.csv', 'test (top-1 50.00%)')


def test_nothing_without_a_long_tail_csv(tmp_path):
    # another metric: the validation metrics still reach add_scalars, no image, no error
    runner = toy_runner(tmp_path / 'acc', metric='Accuracy', test=False)
    runner.train()
    rec = recorder(runner)
    assert rec.images == []
    assert [s for s, _ in rec.scalars if 'accuracy/top1' in s]
    # no evaluation at all (a stage-1 run): the hook is never called
    runner = toy_runner(tmp_path / 'noeval', val=False, test=False)
    runner.train()
    assert recorder(runner).images == []


def fake_runner(metric):
    """A recording visualizer and a runner outside training whose loops evaluate ``metric``."""
    rec = LTPlotRecordingVisBackend()
    loop = SimpleNamespace(evaluator=SimpleNamespace(metrics=[metric]))
    return rec, SimpleNamespace(_train_loop=None, hooks=[], visualizer=rec, val_loop=loop,
                                test_loop=loop, logger=MMLogger.get_current_instance())


def evaluate(metric):
    evaluator = Evaluator([metric])
    evaluator.dataset_meta = ToyDataset.metainfo
    model = ToyClassifier()
    data = [ToyDataset()[i] for i in range(len(ToyDataset()))]
    with torch.no_grad():
        samples = model([d['inputs'] for d in data], [d['data_samples'] for d in data],
                        mode='predict')
    evaluator.process(samples)
    return evaluator.evaluate(len(samples))


def test_hook_on_metric_output(tmp_path):
    """The hook reads the CSV the metric has just written, and only that one."""
    hook = LongTailPlotHook(dpi=50)
    earlier = LongTailAccuracy(out_dir=str(tmp_path))
    evaluate(earlier)  # a CSV left by an earlier run
    metric = LongTailAccuracy(out_dir=str(tmp_path))
    rec, runner = fake_runner(metric)
    hook.after_val_epoch(runner)  # not evaluated yet: that CSV is not this evaluation's
    assert rec.images == []

    metrics = evaluate(metric)
    assert metric.last_csv_path == str(tmp_path / 'per_class_accuracy.csv')
    hook.after_val_epoch(runner, metrics)
    [(name, image, step)] = rec.images
    assert (name, step) == ('per_class_accuracy', 0)
    assert image.dtype == np.uint8 and image.shape == (300, 650, 3)

    Path(metric.last_csv_path).unlink()  # gone since: nothing, no error
    hook.after_val_epoch(runner, metrics)
    assert len(rec.images) == 1

    # a test epoch: the scalars, prefixed, and the image
    rec, runner = fake_runner(metric)
    metrics = evaluate(metric)
    hook.after_test_epoch(runner, dict(metrics, note='not a number'))
    [(scalars, step)] = rec.scalars
    assert step == 0
    assert scalars == pytest.approx({f'test/{k}': v for k, v in metrics.items()})
    assert {f'test/{k}' for k in EXPECTED} <= set(scalars)
    assert [name for name, _, _ in rec.images] == ['test_per_class_accuracy']


def test_metric_without_log_file_writes_no_csv():
    """No out_dir and a logger without a log file: no CSV, the hook does nothing."""
    name = f'nolog_{uuid.uuid4().hex}'
    MMLogger.get_instance(name)  # the current logger, without a log file
    metric = LongTailAccuracy()
    try:
        evaluate(metric)
    finally:
        MMLogger._instance_dict.pop(name)  # the earlier current logger is current again
    assert metric.last_csv_path is None
    rec, runner = fake_runner(metric)
    LongTailPlotHook().after_val_epoch(runner, {})
    LongTailPlotHook().after_test_epoch(runner, {})
    assert rec.images == [] and rec.scalars == []


def test_render_equals_the_saved_png(tmp_path):
    """One drawing: the array of render_lt_accuracy is the PNG of plot_lt_accuracy (the tool's)."""
    metric = LongTailAccuracy(out_dir=str(tmp_path))
    evaluate(metric)
    image = render_lt_accuracy([metric.last_csv_path], title='t', dpi=130)
    png = mpimg.imread(plot_lt_accuracy([metric.last_csv_path], out=tmp_path / 'a.png', title='t'))
    assert image.shape == png.shape[:2] + (3, ) == (780, 1690, 3)
    np.testing.assert_allclose(png[..., :3], image / 255, atol=1 / 255)


# ---- configs -------------------------------------------------------------------------------

TB_PARENT = REPO / 'configs' / 'decoupled' / 'ce_resnet32_1xb128-200e_cifar10-lt-r100.py'
TB_CONFIG = REPO / 'configs' / 'dashboards' / f'{TB_PARENT.stem}_tensorboard.py'
TB_BACKENDS = [dict(type='LocalVisBackend'), dict(type='OptionalTensorboardVisBackend')]


def test_tensorboard_config_differs_only_in_the_visualizer():
    cfg, parent = Config.fromfile(str(TB_CONFIG)).to_dict(), Config.fromfile(str(TB_PARENT))
    assert cfg['visualizer']['type'] == 'UniversalVisualizer'
    assert cfg['visualizer']['vis_backends'] == TB_BACKENDS
    parent = parent.to_dict()
    assert {k for k in set(cfg) | set(parent) if cfg.get(k) != parent.get(k)} == {
        'visualizer', 'tensorboard_visualizer'}
    assert dict(type='LongTailPlotHook') in cfg['custom_hooks']
    assert cfg['val_evaluator']['type'] == 'LongTailAccuracy'


def test_cfg_options_one_liner_switches_to_tensorboard():
    """The README's ``--cfg-options visualizer.vis_backends.0.type=TensorboardVisBackend``."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(
        ['--cfg-options', 'visualizer.vis_backends.0.type=TensorboardVisBackend'])
    cfg = Config.fromfile(str(TB_PARENT))
    cfg.merge_from_dict(args.cfg_options)
    assert cfg.visualizer.vis_backends == [dict(type='TensorboardVisBackend')]


def test_custom_hooks_keep_the_plot_hook():
    """custom_hooks lists are replaced, not merged: every config that lists the runtime's hooks
    again lists LongTailPlotHook too."""
    runtime = Config.fromfile(str(REPO / 'configs' / '_base_' / 'default_runtime.py'))
    assert dict(type='LongTailPlotHook') in runtime.custom_hooks
    checked = 0
    for path in sorted((REPO / 'configs').rglob('*.py')):
        if '_base_' in path.parts or 'custom_hooks' not in path.read_text():
            continue
        types = [h['type'] for h in Config.fromfile(str(path)).get('custom_hooks') or []]
        if 'SamplerStateHook' in types:
            assert 'LongTailPlotHook' in types, path
            checked += 1
    assert checked >= 5
    assert HOOKS.get('LongTailPlotHook') is LongTailPlotHook


def tensorboard_backends():
    """The vis_backends of configs/_base_/tensorboard.py."""
    base = Config.fromfile(str(REPO / 'configs' / '_base_' / 'tensorboard.py'))
    return base.tensorboard_visualizer.vis_backends


def test_optional_tensorboard_without_the_package(tmp_path, monkeypatch):
    """Without tensorboard the switch warns and the local logs go on; required=True raises."""
    monkeypatch.setitem(sys.modules, 'torch.utils.tensorboard', None)  # import fails
    runner = toy_runner(tmp_path / 'optional', test=False, vis_backends=tensorboard_backends())
    runner.train()
    log_dir = Path(runner.log_dir)
    assert (log_dir / 'vis_data' / 'vis_image' / 'per_class_accuracy_2.png').is_file()
    assert 'accuracy/many' in (log_dir / 'vis_data' / 'scalars.json').read_text()
    [log] = log_dir.glob('*.log')
    assert 'tensorboard package is not installed' in log.read_text()
    runner = toy_runner(tmp_path / 'required', test=False, vis_backends=[
        dict(type='OptionalTensorboardVisBackend', required=True)])
    with pytest.raises(ImportError, match='tensorboard'):
        runner.visualizer.add_scalars({'accuracy/many': 1.0})


def test_tensorboard_receives_the_plot_and_the_metrics(tmp_path):
    pytest.importorskip('tensorboard')
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    runner = toy_runner(tmp_path, vis_backends=tensorboard_backends())
    runner.train()
    runner.test()
    runner.visualizer.close()
    events = EventAccumulator(str(Path(runner.log_dir) / 'vis_data'),
                              size_guidance={'images': 0, 'scalars': 0})
    events.Reload()
    tags = events.Tags()
    assert {'per_class_accuracy', 'test_per_class_accuracy'} <= set(tags['images'])
    assert [e.step for e in events.Images('per_class_accuracy')] == [1, 2]
    image = events.Images('per_class_accuracy')[-1]
    assert (image.height, image.width) == (600, 1300)
    for key, value in EXPECTED.items():
        assert [e.value for e in events.Scalars(key)] == pytest.approx([value, value])
        assert [e.value for e in events.Scalars(f'test/{key}')] == pytest.approx([value])
    assert (Path(runner.log_dir) / 'vis_data' / 'scalars.json').is_file()  # local files too
