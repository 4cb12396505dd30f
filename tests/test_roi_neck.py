"""Tests for PatchRoINeck (PBSD patch features, Eq. 11)."""
import pytest
import torch

import mmlt  # noqa: F401
from mmlt.models.necks import PatchRoINeck
from mmlt.models.necks.roi_neck import mmcv_ops_available


def _naive_cell_mean(feat, boxes, stride):
    """Mean of the feature cells inside stride-aligned boxes (loops)."""
    out = torch.zeros(*boxes.shape[:2], feat.size(1))
    for b in range(boxes.size(0)):
        for j in range(boxes.size(1)):
            x1, y1, x2, y2 = (boxes[b, j] / stride).long().tolist()
            out[b, j] = feat[b, :, y1:y2, x1:x2].mean(dim=(1, 2))
    return out


@pytest.mark.parametrize('backend', ['torchvision', 'mmcv'])
def test_cell_aligned_boxes_give_the_cell_mean(backend):
    if backend == 'mmcv' and not mmcv_ops_available():
        pytest.skip('mmcv._ext (compiled mmcv ops) not installed')
    torch.manual_seed(0)
    stride = 4
    feat = torch.randn(2, 5, 8, 8)
    # boxes of 2x2, 4x4 and 2x4 feature cells; with sampling_ratio=1 each of
    # the 2x2 bins samples exactly the centre of its cell(s)
    boxes = torch.tensor([[[0., 0., 8., 8.], [8., 4., 24., 20.],
                           [12., 16., 20., 32.]],
                          [[24., 24., 32., 32.], [0., 16., 16., 32.],
                           [4., 0., 12., 16.]]])
    neck = PatchRoINeck(spatial_scale=1 / stride, sampling_ratio=1,
                        aligned=True, backend=backend)
    assert neck.backend == backend
    out = neck(feat, boxes)
    assert out.shape == (2, 3, 5)
    # 4x4-cell box: each bin is 2x2 cells sampled once at the bin centre
    # (a corner shared by 4 cells) = mean of those 4 cells, so the total is
    # still the cell mean; same for the 2-cell-wide boxes.
    torch.testing.assert_close(out, _naive_cell_mean(feat, boxes, stride))


def test_linear_feature_map_gives_value_at_box_centre():
    """Bilinear sampling of a linear map is exact and symmetric, so the
    average over the bins equals the map at the box centre."""
    stride, size = 8, 10
    ys, xs = torch.meshgrid(torch.arange(size) + 0.5,
                            torch.arange(size) + 0.5, indexing='ij')
    feat = torch.stack([2 * xs - ys, xs + 3 * ys + 1])[None]  # (1, 2, 10, 10)
    boxes = torch.tensor([[[8., 8., 40., 72.], [20., 30., 61., 50.],
                           [5., 10., 75., 75.]]])
    for backend in ['torchvision'] + (['mmcv'] if mmcv_ops_available()
                                      else []):
        out = PatchRoINeck(spatial_scale=1 / stride, backend=backend)(feat,
                                                                      boxes)
        cx = (boxes[0, :, 0] + boxes[0, :, 2]) / 2 / stride
        cy = (boxes[0, :, 1] + boxes[0, :, 3]) / 2 / stride
        expect = torch.stack([2 * cx - cy, cx + 3 * cy + 1], dim=1)[None]
        torch.testing.assert_close(out, expect, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize('aligned', [True, False])
@pytest.mark.parametrize('sampling_ratio', [0, 2])
def test_mmcv_equals_torchvision(aligned, sampling_ratio):
    if not mmcv_ops_available():
        pytest.skip('mmcv._ext (compiled mmcv ops) not installed')
    torch.manual_seed(0)
    feat = torch.randn(3, 4, 7, 7, requires_grad=True)
    xy = torch.rand(3, 5, 2) * 180
    wh = torch.rand(3, 5, 2) * 60 + 4
    boxes = torch.cat([xy, (xy + wh).clamp(max=224)], dim=-1)
    outs, grads = [], []
    for backend in ('mmcv', 'torchvision'):
        neck = PatchRoINeck(spatial_scale=1 / 32, aligned=aligned,
                            sampling_ratio=sampling_ratio, backend=backend)
        out = neck(feat, boxes)
        (grad, ) = torch.autograd.grad(out.square().sum(), feat)
        outs.append(out)
        grads.append(grad)
    torch.testing.assert_close(outs[0], outs[1], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-5, atol=1e-5)


def test_list_boxes_auto_backend_and_errors():
    neck = PatchRoINeck(spatial_scale=1 / 4)
    assert neck.backend == ('mmcv' if mmcv_ops_available() else
                            'torchvision')
    feat = torch.randn(2, 3, 8, 8)
    boxes = torch.tensor([[[0., 0., 16., 16.]], [[4., 4., 32., 20.]]])
    torch.testing.assert_close(neck(feat, list(boxes)), neck(feat, boxes))
    with pytest.raises(ValueError, match='same number of boxes'):
        neck(feat, [boxes[0], torch.zeros(2, 4)])
    with pytest.raises(ValueError, match='batch of 2'):
        neck(feat, boxes[:1])
    with pytest.raises(ValueError, match='backend'):
        PatchRoINeck(backend='cuda')


def test_roi_neck_under_bf16_autocast_matches_fp32():
    """Mixed precision: RoIAlign runs in float32 (mmcv has no bf16 kernel) and boxes keep their
    float32 coordinates, so a bf16 feature map gives the fp32 result up to bf16 rounding."""
    from mmlt.models.necks import PatchRoINeck
    torch.manual_seed(0)
    feat = torch.randn(2, 8, 7, 7)
    boxes = torch.tensor([[[3.3, 5.1, 150.7, 201.9], [10., 20., 60., 90.]]] * 2)
    neck = PatchRoINeck(spatial_scale=1 / 32)
    ref = neck(feat, boxes)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = neck(feat.bfloat16(), boxes)
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), ref, atol=3e-2, rtol=2e-2)
