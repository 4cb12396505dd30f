"""The stack fixes in mmlt.utils.compat: checkpoint loading under torch >= 2.6 and numpy 2."""
import pickle

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.model import BaseModel
from mmengine.runner import Runner

import mmlt  # noqa: F401  (applies the fixes)


class _Toy(BaseModel):

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.fc(inputs)
        return dict(loss=out.pow(2).mean()) if mode == 'loss' else out


def _runner(work_dir, **kwargs):
    data = [dict(inputs=torch.full((2, ), float(i))) for i in range(8)]
    return Runner(
        model=_Toy(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=data,
            batch_size=4,
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=True, max_epochs=kwargs.pop('max_epochs', 1)),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
        randomness=dict(seed=0),
        **kwargs)


class NotAllowed:
    """A class no allow-list names."""


def test_torch_load_defaults_to_weights_only(tmp_path):
    """The failure mode the fix is for exists: torch >= 2.6 refuses unknown globals by default."""
    path = tmp_path / 'not_allowed.pth'
    torch.save({'x': NotAllowed()}, path)
    with pytest.raises(pickle.UnpicklingError, match='Weights only load failed'):
        torch.load(path)


def test_runner_checkpoint_loads_with_weights_only(tmp_path):
    runner = _runner(tmp_path / 'a')
    runner.train()
    ckpt_path = tmp_path / 'a' / 'epoch_1.pth'
    ckpt = torch.load(ckpt_path, weights_only=True)
    loss = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(loss, HistoryBuffer)
    assert np.isfinite(loss.mean())
    assert 'fc.weight' in ckpt['state_dict']


def test_runner_resume_under_torch_2_6(tmp_path):
    """``--resume`` through mmengine's own loader: fails without the allow-list."""
    first = _runner(tmp_path / 'a')
    first.train()
    resumed = _runner(tmp_path / 'b', max_epochs=2, resume=True,
                      load_from=str(tmp_path / 'a' / 'epoch_1.pth'))
    resumed.train()
    assert resumed.epoch == 2
    hub = MessageHub.get_current_instance()
    assert hub.get_scalar('train/loss').data[0].size > 0


class Evil:
    """Pickles as ``getattr(HistoryBuffer, '__subclasses__')``: an allowed object, a bad name."""

    def __reduce__(self):
        return getattr, (HistoryBuffer, '__subclasses__')


def test_restricted_getattr_rejects_other_objects(tmp_path):
    """Allow-listing getattr must not let a checkpoint reach arbitrary attributes."""

    path = tmp_path / 'evil.pth'
    torch.save({'x': Evil()}, path)
    with pytest.raises(Exception, match='only allows HistoryBuffer'):
        torch.load(path, weights_only=True)


def test_numpy2_in1d_for_mmpretrain_retrieval():
    from mmpretrain.evaluation.metrics import retrieval
    got = retrieval.np.in1d(np.array([[1, 2], [3, 4]]), [2, 3])
    np.testing.assert_array_equal(got, [False, True, True, False])
    # the metric that calls it runs end to end
    metric = retrieval.RetrievalRecall(topk=(1, 2))
    pred = torch.tensor([[0.9, 0.1, 0.5], [0.1, 0.8, 0.3]])
    target = [torch.tensor([0]), torch.tensor([2])]
    recall = retrieval.RetrievalRecall.calculate(
        pred, target, topk=(1, 2), target_indices=True)
    assert [float(r) for r in recall] == [50.0, 100.0]
    assert metric.topk == (1, 2)


def test_mmcv_adjust_hue_negative_shift_under_numpy2():
    """MoCo v2's ColorJitter(hue=0.1) draws negative shifts; mmcv 2.1 crashed on them."""
    import mmcv
    from mmcv.image import photometric
    img = np.random.RandomState(0).randint(0, 256, (8, 8, 3), dtype=np.uint8)
    assert mmcv.adjust_hue is photometric.adjust_hue
    for backend in ('cv2', 'pillow'):
        for factor in (-0.1, -0.5, 0.1):
            out = mmcv.adjust_hue(img, factor, backend=backend)
            assert out.shape == img.shape and out.dtype == np.uint8
        # a shift of -f and of 1 - f is the same rotation of the hue circle (mod 256 steps)
        minus = mmcv.adjust_hue(img, -0.1, backend=backend)
        plus = mmcv.adjust_hue(img, 0.1, backend=backend)
        assert not np.array_equal(minus, plus)
    # the wrapped value equals numpy 1's C cast: int(-25.5) = -25 -> 231
    import cv2
    hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV_FULL)
    hsv[..., 0] = (hsv[..., 0].astype(np.int64) + 231) % 256
    expected = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR_FULL)
    np.testing.assert_array_equal(mmcv.adjust_hue(img, -0.1, backend='cv2'), expected)


def test_mmcv_nms_and_roi_align_under_bf16_autocast():
    """mmcv 2.1's CPU nms / RoIAlign kernels are float32-only; under bf16 autocast (an mmdet
    detector with ``--amp bf16``) they stopped with "expected scalar type Float"."""
    pytest.importorskip('mmdet')
    import mmlt.det  # noqa: F401  (applies the mmcv ops fix)
    from mmcv.ops import RoIAlign, batched_nms, nms
    g = torch.Generator().manual_seed(0)
    boxes = torch.rand(60, 4, generator=g) * 40
    boxes[:, 2:] += boxes[:, :2] + 4
    scores = torch.rand(60, generator=g)
    # boxes exactly representable in bf16, so float32 and bf16 NMS see the same numbers
    boxes, scores = boxes.bfloat16().float(), scores.bfloat16().float()
    dets_ref, keep_ref = nms(boxes, scores, 0.5)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        dets, keep = nms(boxes.bfloat16(), scores.bfloat16(), 0.5)
        _, keep_batched = batched_nms(boxes.bfloat16(), scores.bfloat16(),
                                      torch.zeros(60, dtype=torch.long),
                                      dict(type='nms', iou_threshold=0.5))
    assert torch.equal(keep, keep_ref) and 0 < len(keep) < 60
    assert dets.dtype == torch.bfloat16  # the boxes' own dtype, as mmdet expects
    assert torch.equal(torch.sort(keep_batched).values, torch.sort(keep_ref).values)

    feats = torch.randn(2, 8, 16, 16, generator=g)
    rois = torch.tensor([[0, 1., 1, 10, 10], [1, 2, 3, 12, 14], [0, 0, 0, 30, 31]])
    align = RoIAlign((7, 7), 0.5, 0)
    x32 = feats.clone().requires_grad_()
    out32 = align(x32, rois)
    (out32 * torch.arange(49.).view(7, 7)).sum().backward()
    x16 = feats.bfloat16().requires_grad_()
    out16 = align(x16, rois)
    assert out16.dtype == torch.bfloat16  # mmdet writes it into a tensor of the features' dtype
    (out16 * torch.arange(49.).view(7, 7)).sum().backward()
    assert x16.grad.dtype == torch.bfloat16
    torch.testing.assert_close(out16.float(), out32, atol=0.05, rtol=0.02)
    torch.testing.assert_close(x16.grad.float(), x32.grad, atol=0.3, rtol=0.02)
    assert x32.grad.abs().sum() > 0
    # float32 features still take mmcv's own path: the same numbers as the unpatched kernel
    from mmcv.utils import ext_loader
    ext = ext_loader.load_ext('_ext', ['roi_align_forward'])
    raw = feats.new_zeros(3, 8, 7, 7)
    ext.roi_align_forward(feats, rois, raw, feats.new_zeros(3, 8, 7, 7),
                          feats.new_zeros(3, 8, 7, 7), aligned_height=7, aligned_width=7,
                          spatial_scale=0.5, sampling_ratio=0, pool_mode=1, aligned=True)
    assert torch.equal(align(feats, rois), raw)
