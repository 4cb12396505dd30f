"""Tests of the CFRL rotation-negative contrastive loss and head."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmlt.models.heads.rotation_head import RotationContrastiveHead
from mmlt.models.losses.rotation_contrastive_loss import RotationContrastiveLoss
from mmpretrain.models.heads import ContrastiveHead

TAU = 0.2


def unit(*shape, generator=None):
    return F.normalize(torch.randn(*shape, generator=generator), dim=-1)


def make_inputs(seed=0, num=5, num_rot=3, num_queue=12, dim=8):
    gen = torch.Generator().manual_seed(seed)
    return (unit(num, dim, generator=gen), unit(num, dim, generator=gen),
            unit(num, num_rot, dim, generator=gen), unit(num_queue, dim, generator=gen))


def naive_rotation_nce(anchor, positive, rotated, queue, tau):
    """Per-anchor loop, float64: -log exp(a.p) / (exp(a.p) + sum_r exp(a.r) + sum_k exp(a.q))."""
    anchor, positive = anchor.double(), positive.double()
    rotated, queue = rotated.double(), queue.double()
    losses = []
    for n in range(anchor.size(0)):
        pos = float(anchor[n] @ positive[n]) / tau
        others = [float(anchor[n] @ rotated[n, r]) / tau for r in range(rotated.size(1))]
        others += [float(anchor[n] @ queue[m]) / tau for m in range(queue.size(0))]
        denom = math.exp(pos) + sum(math.exp(s) for s in others)
        losses.append(-(pos - math.log(denom)))
    return sum(losses) / len(losses)


@pytest.mark.parametrize('num_rot,num_queue', [(3, 12), (1, 12), (3, 0), (0, 12)])
def test_rotation_head_matches_naive_reference(num_rot, num_queue):
    anchor, positive, rotated, queue = make_inputs(num_rot=num_rot, num_queue=num_queue)
    head = RotationContrastiveHead(temperature=TAU, loss_weight=0.7)
    got = head.loss(anchor, positive, rotated, queue)
    want = 0.7 * naive_rotation_nce(anchor, positive, rotated, queue, TAU)
    assert got.item() == pytest.approx(want, rel=1e-5)


def test_without_rotations_equals_contrastive_head_infonce():
    anchor, positive, _, queue = make_inputs(seed=1, num_queue=40)
    rotated = anchor.new_zeros(anchor.size(0), 0, anchor.size(1))
    head = RotationContrastiveHead(temperature=TAU)
    moco = ContrastiveHead(loss=dict(type='CrossEntropyLoss'), temperature=TAU)
    l_pos = (anchor * positive).sum(1, keepdim=True)
    torch.testing.assert_close(head.loss(anchor, positive, rotated, queue),
                               moco.loss(l_pos, anchor @ queue.t()), rtol=1e-5, atol=1e-6)


def test_rotated_copies_are_negatives():
    """Making the rotated embeddings closer to the anchor raises the loss; with rotations the
    loss is larger than without (they only add terms to the denominator)."""
    anchor, positive, rotated, queue = make_inputs(seed=2)
    head = RotationContrastiveHead(temperature=TAU)
    base = head.loss(anchor, positive, rotated, queue)
    closer = F.normalize(rotated + 2 * anchor[:, None], dim=-1)
    assert head.loss(anchor, positive, closer, queue) > base
    assert base > head.loss(anchor, positive, rotated[:, :0], queue)


@pytest.mark.parametrize('detach_positive', [True, False])
def test_gradients(detach_positive):
    anchor, positive, rotated, queue = make_inputs(seed=3)
    for t in (anchor, positive, rotated, queue):
        t.requires_grad_()
    head = RotationContrastiveHead(temperature=TAU, detach_positive=detach_positive)
    head.loss(anchor, positive, rotated, queue).backward()
    assert anchor.grad.abs().sum() > 0 and rotated.grad.abs().sum() > 0
    assert queue.grad is None or not queue.grad.any()
    if detach_positive:
        assert positive.grad is None or not positive.grad.any()
    else:
        assert positive.grad.abs().sum() > 0


def test_loss_module_reduction_and_errors():
    gen = torch.Generator().manual_seed(4)
    pos, rot, neg = (torch.randn(4, generator=gen), torch.randn(4, 2, generator=gen),
                     torch.randn(4, 6, generator=gen))
    per_anchor = RotationContrastiveLoss(reduction='none')(pos, rot, neg)
    want = F.cross_entropy(torch.cat([pos[:, None], rot, neg], 1), torch.zeros(4, dtype=torch.long),
                           reduction='none')
    torch.testing.assert_close(per_anchor, want)
    anchor, positive, rotated, queue = make_inputs()
    with pytest.raises(ValueError, match='rotated'):
        RotationContrastiveHead().loss(anchor, positive, rotated[:2], queue)
