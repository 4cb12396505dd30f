"""Tests of the PBSD loss and head (Xuan & Zhang, AAAI 2024, Eq. 11-14)."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmlt.models.heads.pbsd_head import PBSDHead
from mmlt.models.losses.pbsd_loss import PBSDLoss

TAU = 0.07


def unit(*shape, generator=None):
    return F.normalize(torch.randn(*shape, generator=generator), dim=-1)


def make_inputs(seed=0, batch=3, num_patches=4, num_queue=10, dim=8):
    gen = torch.Generator().manual_seed(seed)
    roi = unit(batch, num_patches, dim, generator=gen)
    crop = unit(batch, num_patches, dim, generator=gen)
    key = unit(batch, dim, generator=gen)
    queue = unit(num_queue, dim, generator=gen)
    return roi, crop, key, queue


def naive_pbsd(roi, crop, key, queue, tau):
    """Loops over images i and patches j, float64."""
    roi, crop, key, queue = roi.double(), crop.double(), key.double(), queue.double()
    total, count = 0.0, 0
    for i in range(roi.size(0)):
        keys = [key[i]] + [queue[m] for m in range(queue.size(0))]
        for j in range(roi.size(1)):
            t_logits = [float(roi[i, j] @ v) / tau for v in keys]
            s_logits = [float(crop[i, j] @ v) / tau for v in keys]
            t_lse = math.log(sum(math.exp(s) for s in t_logits))
            s_lse = math.log(sum(math.exp(s) for s in s_logits))
            total += -sum(math.exp(t - t_lse) * (s - s_lse) for t, s in zip(t_logits, s_logits))
            count += 1
    return total / count


@pytest.mark.parametrize('num_queue', [10, 0])
def test_pbsd_head_matches_naive_reference(num_queue):
    roi, crop, key, queue = make_inputs(num_queue=num_queue)
    head = PBSDHead(temperature=TAU, loss_weight=1.0)
    got = head.loss(roi, crop, key, queue)
    assert got.item() == pytest.approx(naive_pbsd(roi, crop, key, queue, TAU), rel=1e-5, abs=1e-6)
    if num_queue == 0:  # a single key: both distributions are one-hot, nothing to distil
        assert got.item() == pytest.approx(0.0, abs=1e-6)


def test_loss_weight_scales():
    roi, crop, key, queue = make_inputs(seed=1)
    base = PBSDHead(temperature=TAU, loss_weight=1.0).loss(roi, crop, key, queue)
    assert base.item() > 0
    weighted = PBSDHead(temperature=TAU, loss_weight=1.5).loss(roi, crop, key, queue)
    torch.testing.assert_close(weighted, 1.5 * base)
    assert PBSDHead().loss_weight == 1.5 and PBSDHead().temperature == 0.07


def test_teacher_gets_no_gradient_student_does():
    roi, crop, key, queue = make_inputs(seed=2)
    roi.requires_grad_()
    crop.requires_grad_()
    key.requires_grad_()
    PBSDHead(temperature=TAU).loss(roi, crop, key, queue).backward()
    assert roi.grad is None or not roi.grad.any()
    assert key.grad is None or not key.grad.any()
    assert crop.grad is not None and crop.grad.abs().sum() > 0


def test_student_equal_to_teacher_is_stationary():
    """Cross-entropy to a soft target is minimal (= the teacher's entropy) when the student's
    distribution equals the teacher's: with e_ij = f_ij the gradient vanishes."""
    roi, _, key, queue = make_inputs(seed=3)
    crop = roi.clone().requires_grad_()
    loss = PBSDHead(temperature=TAU, loss_weight=1.0).loss(roi, crop, key, queue)
    loss.backward()
    torch.testing.assert_close(crop.grad, torch.zeros_like(crop), atol=1e-5, rtol=0)
    teacher = torch.cat([torch.einsum('blc,bc->bl', roi, key)[..., None], roi @ queue.t()], 2)
    teacher = (teacher / TAU).softmax(-1)
    entropy = -(teacher * teacher.clamp_min(1e-30).log()).sum(-1).mean()
    torch.testing.assert_close(loss, entropy, rtol=1e-4, atol=1e-5)


def test_pbsd_loss_module_and_errors():
    gen = torch.Generator().manual_seed(4)
    student, teacher = torch.randn(5, 7, generator=gen), torch.randn(5, 7, generator=gen)
    per_row = PBSDLoss(reduction='none')(student, teacher)
    want = -(teacher.softmax(1) * student.log_softmax(1)).sum(1)
    torch.testing.assert_close(per_row, want)
    torch.testing.assert_close(PBSDLoss(loss_weight=2.0)(student, teacher), 2 * want.mean())
    roi, crop, key, queue = make_inputs()
    with pytest.raises(ValueError, match='crop_feats'):
        PBSDHead().loss(roi, crop[:, :2], key, queue)
    with pytest.raises(ValueError, match='queue'):
        PBSDHead().loss(roi, crop, key, queue[:, :3])
