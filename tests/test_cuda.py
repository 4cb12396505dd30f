"""CUDA checks (``pytest -m cuda``; skipped without a GPU, run by tools/benchmark/gpu_suite.sh):
the batched augmentation, bf16 autocast and a DSCL + PBSD training step on the GPU."""
import numpy as np
import pytest
import torch
from scipy import stats

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU'),
]


def test_batched_views_on_the_gpu_match_the_cpu_distribution():
    from mmlt.models.utils import BatchAugViewsDataPreprocessor
    from mmpretrain.structures import DataSample
    views = dict(query=[dict(type='RandomResizedCrop', size=(32, 32), scale=(0.2, 1.)),
                        dict(type='RandomHorizontalFlip'),
                        dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4,
                             hue=0.1, p=0.8),
                        dict(type='RandomGrayscale', p=0.2)],
                 num_patches=5, patch_size=16)
    areas = {}
    for device in ('cpu', 'cuda'):
        torch.manual_seed(0)
        pre = BatchAugViewsDataPreprocessor(views=views, mean=[125.] * 3, std=[50.] * 3,
                                            to_rgb=True, channels_last=True).to(device)
        imgs = torch.randint(0, 256, (512, 3, 32, 32), dtype=torch.uint8)
        samples = [DataSample().set_gt_label(0) for _ in range(512)]
        out = pre(dict(inputs=imgs, data_samples=samples), training=True)
        q, k, crops = out['inputs']
        assert q.device.type == device and crops.shape == (2560, 3, 16, 16)
        boxes = torch.stack([s.patch_boxes for s in out['data_samples']]).cpu()
        areas[device] = ((boxes[..., 2] - boxes[..., 0]) *
                         (boxes[..., 3] - boxes[..., 1])).flatten().numpy() / 1024
    assert stats.ks_2samp(areas['cpu'], areas['cuda']).pvalue > 1e-3
    assert np.all(areas['cuda'] <= 0.6 + 1e-6)


def test_autocast_optim_wrapper_on_cuda():
    from mmlt.engine.optimizers import AutocastOptimWrapper
    model = torch.nn.Linear(8, 4).cuda()
    optim = AutocastOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    with optim.optim_context(model):
        out = model(torch.randn(2, 8, device='cuda'))
    assert out.dtype == torch.bfloat16
    optim.update_params(out.float().sum())
    assert model.weight.dtype == torch.float32


def test_dscl_pbsd_step_on_cuda_bf16():
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample
    from pathlib import Path

    from mmlt.engine.optimizers import AutocastOptimWrapper
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(str(Path(__file__).resolve().parents[1] /
                              'configs/dscl/dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100.py'))
    model_cfg = dict(cfg.model, data_preprocessor=cfg.data_preprocessor)
    model = MODELS.build(model_cfg).cuda()
    model.init_weights()
    optim = AutocastOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.05,
                                                           momentum=0.9))
    imgs = torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8)
    for step in range(3):
        samples = [DataSample().set_gt_label(i % 10) for i in range(64)]
        losses = model.train_step(dict(inputs=imgs, data_samples=samples), optim)
        assert all(torch.isfinite(torch.as_tensor(v)) for v in losses.values())
        assert set(losses) >= {'loss_dscl', 'loss_pbsd'}
    assert int(model.queue.num_filled) == 192
