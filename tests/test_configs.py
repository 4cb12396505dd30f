"""Every config loads, resolves its ``_base_`` chain and builds a Runner with mmlt registered."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

import mmlt  # noqa: F401

CONFIGS = sorted(
    p for p in (Path(__file__).resolve().parents[1] / 'configs').rglob('*.py')
    if '_base_' not in p.parts)


def test_there_are_configs():
    assert len(CONFIGS) >= 10


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_config_builds_runner(path, tmp_path):
    """The config resolves its ``_base_`` chain, imports mmlt, and the Runner accepts it (model
    built, train / val / test parts consistent) as tools/train.py and tools/test.py build it.
    Dataloaders are built lazily and weights are not loaded, so no data or checkpoint is read."""
    cfg = Config.fromfile(str(path))
    assert 'mmlt' in cfg.custom_imports['imports']
    cfg.work_dir = str(tmp_path)
    cfg.launcher = 'none'
    runner = Runner.from_cfg(cfg)
    assert runner.model is not None


# --------------------------------------------------------------------------- #
# Kang et al.'s recipes (ICLR 2020, github.com/facebookresearch/classifier-balancing, config/)
# --------------------------------------------------------------------------- #
DECOUPLED = Path(__file__).resolve().parents[1] / 'configs' / 'decoupled'
CA4 = dict(type='ClassAwareSampler', num_samples_cls=4)
IB = dict(type='InstanceBalancedSampler')
IN_LT = dict(dataset='ImageNetLT', ann='ImageNet_LT/ImageNet_LT_train.txt', classes=1000)
PLACES = dict(dataset='PlacesLT', ann='Places_LT/Places_LT_train.txt', classes=365)
INAT = dict(dataset='INaturalist2018', ann='iNaturalist18/iNaturalist18_train.txt', classes=8142)
# name: (data, epochs, lr, weight decay, total batch, sampler, stage)
KANG_RECIPES = {}
for arch in ('resnext50', 'resnet50'):
    for suffix, sampler in [('', IB), ('_square-root', dict(type='SquareRootSampler')),
                            ('_progressive',
                             dict(type='ProgressiveBalancedSampler', total_epochs=89)),
                            ('_class-balanced', CA4)]:
        KANG_RECIPES[f'ce_{arch}_4xb128-90e_imagenet-lt{suffix}'] = (
            IN_LT, 90, 0.2, 5e-4, 512, sampler, 'ce')
    KANG_RECIPES[f'crt_{arch}_4xb128-10e_imagenet-lt'] = (IN_LT, 10, 0.2, 5e-4, 512, CA4, 'crt')
    KANG_RECIPES[f'lws_{arch}_4xb128-5e_imagenet-lt'] = (IN_LT, 5, 0.2, 5e-4, 512, CA4, 'lws')
    KANG_RECIPES[f'tau-norm_{arch}_imagenet-lt'] = (IN_LT, None, None, None, None, None, 'tau')
    KANG_RECIPES[f'ncm_{arch}_imagenet-lt'] = (IN_LT, None, None, None, None, None, 'ncm')
KANG_RECIPES.update({
    'ce_resnet152-in1k-pre_4xb64-30e_places-lt': (PLACES, 30, 0.1, 5e-4, 256, IB, 'ce'),
    'crt_resnet152_4xb64-10e_places-lt': (PLACES, 10, 0.1, 5e-4, 256, CA4, 'crt'),
    'lws_resnet152_4xb64-5e_places-lt': (PLACES, 5, 0.1, 5e-4, 256, CA4, 'lws'),
    'tau-norm_resnet152_places-lt': (PLACES, None, None, None, None, None, 'tau'),
    'ce_resnet50_4xb128-90e_inat18': (INAT, 90, 0.2, 1e-4, 512, IB, 'ce'),
    'ce_resnet50_4xb128-200e_inat18': (INAT, 200, 0.2, 1e-4, 512, IB, 'ce'),
    'crt_resnet50_4xb128-30e_inat18': (INAT, 30, 0.2, 1e-4, 512, CA4, 'crt'),
    'lws_resnet50_4xb128-5e_inat18': (INAT, 5, 0.2, 1e-4, 512, CA4, 'lws'),
    'tau-norm_resnet50_inat18': (INAT, None, None, None, None, None, 'tau'),
})
BACKBONES = dict(resnext50=('ResNeXt', 50), resnet50=('ResNet', 50), resnet152=('ResNet', 152))


def test_kang_recipe_configs_exist():
    assert all((DECOUPLED / f'{name}.py').is_file() for name in KANG_RECIPES)


@pytest.mark.parametrize('name', sorted(KANG_RECIPES))
def test_kang_recipe(name):
    """Epochs, lr, weight decay, batch, sampler, data and model of Kang et al.'s recipes."""
    import re

    from mmengine.optim import OptimWrapper
    from mmengine.registry import PARAM_SCHEDULERS
    data, epochs, lr, wd, batch, sampler, stage = KANG_RECIPES[name]
    cfg = Config.fromfile(str(DECOUPLED / f'{name}.py'))
    # data: the standard list paths under data/, the train list's counts for Many/Medium/Few
    assert cfg.data_preprocessor.num_classes == data['classes']
    for split in ('val_dataloader', 'test_dataloader'):
        ds = cfg[split].dataset
        assert ds.type == data['dataset'] and ds.data_root == 'data'
        assert ds.train_ann_file == data['ann'] and ds.test_mode
    # model
    arch = re.match(r'[a-z-]+_(resne\w+?)[-_]', name).group(1)
    assert (cfg.model.backbone.type, cfg.model.backbone.depth) == BACKBONES[arch]
    head = cfg.model.head
    assert head.num_classes == data['classes'] and head.in_channels == 2048
    if stage in ('tau', 'ncm'):  # no training
        assert cfg.train_dataloader is None and cfg.get('train_cfg') is None
        assert head.type == dict(tau='TauNormHead', ncm='NCMHead')[stage]
        return
    train = cfg.train_dataloader
    assert train.dataset.type == data['dataset'] and train.dataset.ann_file == data['ann']
    assert train.dataset.data_root == 'data'
    assert cfg.train_cfg.max_epochs == epochs
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.momentum, opt.weight_decay) == ('SGD', lr, 0.9, wd)
    # batch: GPUs x per-GPU batch as the name says, the total is Kang et al.'s
    gpus, per_gpu = map(int, re.search(r'_(\d+)xb(\d+)-', name).groups())
    assert train.batch_size == per_gpu and gpus * per_gpu == batch
    assert cfg.auto_scale_lr.base_batch_size == batch
    # sampler (and the class-aware option with Kang et al.'s num_samples_cls)
    assert {k: v for k, v in train.sampler.items() if k != 'shuffle'} == sampler
    # the cosine from lr to 0 spans the whole run, whatever max_epochs is
    [sched] = cfg.param_scheduler
    assert sched.type == 'CosineAnnealingLR' and sched.eta_min == 0
    assert 'end' not in sched and 'T_max' not in sched
    model = torch.nn.Linear(1, 1)
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=lr))
    built = PARAM_SCHEDULERS.build(dict(sched, end=epochs),  # what the Runner does
                                   default_args=dict(optimizer=wrapper, epoch_length=3))
    assert built.T_max == built.end == 3 * epochs
    # stages
    if stage == 'ce':
        assert cfg.model.type == 'ImageClassifier' and head.type == 'LinearClsHead'
        assert cfg.model.get('init_cfg') is None
        if 'places' in name:  # fine-tuned from MMPretrain's ImageNet-1k ResNet-152, backbone x0.1
            init = cfg.model.backbone.init_cfg
            assert init.type == 'Pretrained' and init.prefix == 'backbone.'
            assert init.checkpoint.startswith('https://download.openmmlab.com/')
            assert cfg.optim_wrapper.paramwise_cfg.custom_keys.backbone.lr_mult == 0.1
        else:  # from scratch
            assert cfg.model.backbone.get('init_cfg') is None
        return
    assert cfg.model.type == 'DecoupledClassifier'
    assert tuple(cfg.model['freeze']) == ('backbone', 'neck')
    stage1 = cfg.model.init_cfg
    assert stage1.type == 'Pretrained' and stage1.checkpoint.startswith('work_dirs/ce_')
    assert f'_{arch}' in stage1.checkpoint
    if stage == 'crt':  # the stage-1 backbone only; a new linear classifier
        assert stage1.prefix == 'backbone.' and head.type == 'LinearClsHead'
    else:  # LWS: the whole stage-1 model, learnable scales
        assert 'prefix' not in stage1 and head.type == 'LWSHead'
        assert cfg.model.backbone.get('init_cfg') is None


def test_kang_class_aware_epoch_from_config():
    """The cRT sampler of the configs draws Kang et al.'s epoch: max_j n_j x C samples."""
    import numpy as np
    from mmengine.registry import DATA_SAMPLERS

    class Labels:
        labels = np.repeat(np.arange(4), [20, 9, 4, 1])

        def __len__(self):
            return len(self.labels)

        def get_gt_labels(self):
            return self.labels

    cfg = Config.fromfile(str(DECOUPLED / 'crt_resnext50_4xb128-10e_imagenet-lt.py'))
    sampler = DATA_SAMPLERS.build(dict(cfg.train_dataloader.sampler, dataset=Labels(), seed=0))
    assert len(sampler) == 20 * 4
    assert np.bincount(Labels.labels[list(sampler)]).tolist() == [20] * 4
