"""Tests of the DSCL loss and head (Xuan & Zhang, AAAI 2024, Eq. 8-9)."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmlt.models.heads.dscl_head import DSCLHead
from mmlt.models.losses.dscl_loss import DSCLLoss, SCLLoss, dscl_loss
from mmpretrain.models.heads import ContrastiveHead

TAU = 0.07


def unit(*shape, generator=None):
    return F.normalize(torch.randn(*shape, generator=generator), dim=-1)


def naive_dscl(q, k, labels, queue, queue_labels, tau, alpha, mode, empty_pos='one'):
    """Per-anchor loop over the contrast set, in float64 (alpha=None: SCL)."""
    q, k, queue = q.double(), k.double(), queue.double()
    losses = []
    for i in range(q.size(0)):
        members = [(k[i], int(labels[i]))]  # own positive first
        if mode == 'batch_queue':
            members += [(q[j], int(labels[j])) for j in range(q.size(0)) if j != i]
            members += [(k[j], int(labels[j])) for j in range(q.size(0)) if j != i]
        members += [(queue[j], int(queue_labels[j])) for j in range(queue.size(0))]
        logits = [float(q[i] @ vec) / tau for vec, _ in members]
        lse = math.log(sum(math.exp(s) for s in logits))
        log_p = [s - lse for s in logits]
        own = log_p[0]
        lab = int(labels[i])
        pos = [log_p[m] for m in range(1, len(members)) if lab >= 0 and members[m][1] == lab]
        if alpha is None:
            loss = -(own + sum(pos)) / (len(pos) + 1)
        elif not pos:
            loss = -(1.0 if empty_pos == 'one' else alpha) * own
        else:
            loss = -(alpha * own + (1 - alpha) * sum(pos) / len(pos))
        losses.append(loss)
    return torch.tensor(losses, dtype=torch.float64)


def make_batch(seed=0, batch=6, num_queue=20, dim=8):
    gen = torch.Generator().manual_seed(seed)
    q = unit(batch, dim, generator=gen)
    k = unit(batch, dim, generator=gen)
    # label 5 occurs once in the batch and never in the queue: empty P_i in both modes
    labels = torch.tensor([0, 0, 1, 2, 5, 1])[:batch]
    queue = unit(num_queue, dim, generator=gen)
    queue_labels = torch.randint(-1, 3, (num_queue, ), generator=gen)  # -1: unlabelled
    return q, k, labels, queue, queue_labels


@pytest.mark.parametrize('mode', ['queue', 'batch_queue'])
@pytest.mark.parametrize('alpha', [0.1, 0.37, 1.0, None])
@pytest.mark.parametrize('empty_pos', ['one', 'alpha'])
@pytest.mark.parametrize('num_queue', [20, 0])
def test_dscl_head_matches_naive_reference(mode, alpha, empty_pos, num_queue):
    q, k, labels, queue, queue_labels = make_batch(num_queue=num_queue)
    head = DSCLHead(loss=dict(type='DSCLLoss', alpha=alpha, empty_pos=empty_pos,
                              reduction='none'),
                    temperature=TAU, contrast_mode=mode)
    got = head.loss(q, k, labels, queue, queue_labels)
    want = naive_dscl(q, k, labels, queue, queue_labels, TAU, alpha, mode, empty_pos)
    torch.testing.assert_close(got.double(), want, rtol=1e-5, atol=1e-5)
    # the batch really contains anchors with and without positives
    _, pos_mask, _ = head.contrast(q, k, labels, queue, queue_labels)
    assert (pos_mask.sum(1) == 0).any()
    if mode == 'batch_queue' or num_queue:
        assert (pos_mask.sum(1) > 0).any()


def test_empty_positive_weight_modes_differ():
    q, k, labels, queue, queue_labels = make_batch()
    losses = {}
    for empty_pos in ('one', 'alpha'):
        head = DSCLHead(loss=dict(type='DSCLLoss', alpha=0.1, empty_pos=empty_pos,
                                  reduction='none'), contrast_mode='queue')
        losses[empty_pos] = head.loss(q, k, labels, queue, queue_labels)
    # anchor 4 (label 5) has no positive: -log p vs -alpha log p; others identical
    torch.testing.assert_close(losses['alpha'][4], 0.1 * losses['one'][4])
    keep = torch.arange(6) != 4
    torch.testing.assert_close(losses['alpha'][keep], losses['one'][keep])


@pytest.mark.parametrize('mode', ['queue', 'batch_queue'])
def test_alpha_one_over_p_plus_one_is_scl(mode):
    q, k, labels, queue, queue_labels = make_batch(seed=1)
    head = DSCLHead(loss=dict(type='SCLLoss'), temperature=TAU, contrast_mode=mode)
    logits, pos_mask, valid_mask = head.contrast(q, k, labels, queue, queue_labels)
    per_anchor_alpha = 1.0 / (pos_mask.sum(1).float() + 1)
    dscl = DSCLLoss(alpha=0.1)(logits, pos_mask, valid_mask, alpha=per_anchor_alpha)
    scl = head.loss(q, k, labels, queue, queue_labels)
    torch.testing.assert_close(dscl, scl)
    # and with batches in which every anchor has the same |P|: a scalar alpha
    labels_same = torch.zeros(6, dtype=torch.long)
    queue_labels_same = torch.tensor([0] * 4 + [1] * 16)
    n_pos = 4 if mode == 'queue' else 4 + 2 * 5
    dscl_head = DSCLHead(loss=dict(type='DSCLLoss', alpha=1.0 / (n_pos + 1)), contrast_mode=mode)
    torch.testing.assert_close(
        dscl_head.loss(q, k, labels_same, queue, queue_labels_same),
        head.loss(q, k, labels_same, queue, queue_labels_same))


def test_alpha_one_is_moco_infonce():
    q, k, labels, queue, queue_labels = make_batch(seed=2, batch=6, num_queue=50, dim=16)
    head = DSCLHead(loss=dict(type='DSCLLoss', alpha=1.0), temperature=TAU,
                    contrast_mode='queue')
    moco = ContrastiveHead(loss=dict(type='CrossEntropyLoss'), temperature=TAU)
    l_pos = (q * k).sum(1, keepdim=True)
    l_neg = q @ queue.t()
    torch.testing.assert_close(head.loss(q, k, labels, queue, queue_labels),
                               moco.loss(l_pos, l_neg), rtol=1e-5, atol=1e-6)


def test_beta_parameterisation_and_bad_args():
    assert DSCLLoss(beta=8.0).alpha == pytest.approx(1 / 9)
    assert SCLLoss().alpha is None
    with pytest.raises(ValueError, match='alpha'):
        DSCLLoss(alpha=0.3, beta=8.0)
    with pytest.raises(ValueError, match='alpha'):
        DSCLLoss(alpha=1.5)
    with pytest.raises(ValueError, match='contrast_mode'):
        DSCLHead(contrast_mode='batch')
    q, k, labels, queue, queue_labels = make_batch()
    with pytest.raises(ValueError, match='queue_labels'):
        DSCLHead().loss(q, k, labels, queue, queue_labels[:-1])


def test_autocast_bf16_computes_in_float32():
    q, k, labels, queue, queue_labels = make_batch(seed=3, dim=32)
    q16, k16, queue16 = q.bfloat16(), k.bfloat16(), queue.bfloat16()
    head = DSCLHead(contrast_mode='batch_queue')
    with torch.autocast(device_type='cpu', dtype=torch.bfloat16):
        got = head.loss(q16, k16, labels, queue16, queue_labels)
    want = head.loss(q16.float(), k16.float(), labels, queue16.float(), queue_labels)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)


def pull_gradients(alpha, num_pos, num_neg=16384, dim=128, seed=0):
    """Gradients of the DSCL loss of one random anchor, split into the own-key and same-class parts.

    The logits are built from three copies of the query z (own column, P_i
    columns, other columns), so autograd returns the q-gradient through each
    group: ``dL/dz = (p_+ - alpha) z^+ / tau + sum_t (p_t - (1 - alpha)/|P|) z_t / tau
    + sum_m p_m z_m / tau``. Also returns the gradient w.r.t. the logits.
    """
    gen = torch.Generator().manual_seed(seed)
    z = unit(dim, generator=gen)
    key = unit(dim, generator=gen)
    centre = unit(dim, generator=gen)
    # same-class features are concentrated around a class centre (what the supervised
    # pull produces); random negatives fill a large queue (near-uniform p)
    same = F.normalize(centre + 0.02 * torch.randn(num_pos, dim, generator=gen), dim=1)
    neg = unit(num_neg, dim, generator=gen)
    z_own, z_pos, z_rest = (z.clone().requires_grad_() for _ in range(3))
    logits = torch.cat([(z_own @ key)[None], z_pos @ same.t(), z_rest @ neg.t()]) / TAU
    logits = logits[None]
    logits.retain_grad()
    pos_mask = torch.zeros_like(logits, dtype=torch.bool)
    pos_mask[0, 1:1 + num_pos] = True
    loss = dscl_loss(logits, pos_mask, alpha=alpha).sum()
    loss.backward()
    return z_own.grad, z_pos.grad, logits.grad[0, :1 + num_pos]


@pytest.mark.parametrize('num_pos', [2, 8, 32])
@pytest.mark.parametrize('alpha', [0.1, 0.3])
def test_gradient_ratio_own_key_vs_same_class_is_alpha_ratio(alpha, num_pos):
    """The paper's property: near initialisation (p close to uniform over a large M) the pull on
    the own key over the pull on the same-class samples is alpha / (1 - alpha) for DSCL,
    whatever |P_i|, and 1 / |P_i| for SCL.

    "Pull" is measured (a) on the logits: -dL/ds_+ = alpha - p_+ versus
    -sum_{t in P} dL/ds_t = (1 - alpha) - sum_t p_t (the total weight the loss puts on
    the class; the L2 norm of the P-logit gradient vector would carry a spurious
    1/sqrt(|P|)), and (b) as L2 norms of the query gradients through the own key and
    through P_i, with concentrated same-class features, where
    ||sum_t w z_t|| ~= |P| w, so (a) and (b) agree. With near-orthogonal same-class
    features (b) would shrink by ~sqrt(|P|) for any loss, which is not what the
    paper's analysis is about.
    """
    for loss_alpha, expected in ((alpha, alpha / (1 - alpha)), (None, 1.0 / num_pos)):
        g_own, g_pos, g_logits = pull_gradients(loss_alpha, num_pos)
        logit_ratio = (-g_logits[0]) / (-g_logits[1:].sum())
        query_ratio = g_own.norm() / g_pos.norm()
        assert logit_ratio.item() == pytest.approx(expected, rel=0.1)
        assert query_ratio.item() == pytest.approx(expected, rel=0.1)


def test_dscl_ratio_independent_of_num_pos_but_scl_not():
    dscl = [pull_gradients(0.1, n)[2] for n in (2, 32)]
    scl = [pull_gradients(None, n)[2] for n in (2, 32)]
    ratio = [g[0] / g[1:].sum() for g in dscl]
    ratio_scl = [g[0] / g[1:].sum() for g in scl]
    assert ratio[0].item() == pytest.approx(ratio[1].item(), rel=0.05)
    assert ratio_scl[0].item() > 10 * ratio_scl[1].item()


@pytest.mark.parametrize('alpha,num_pos', [(0.1, 1), (0.1, 4), (0.5, 3), (None, 4)])
def test_optimum_own_probability_is_alpha(alpha, num_pos):
    """Minimising the loss over free logits of one anchor gives p(z^+) = alpha
    (SCL: 1 / (|P| + 1)) and p(z_t) = (1 - alpha) / |P| for each same-class t."""
    torch.manual_seed(0)
    num_neg = 10
    logits = torch.randn(1, 1 + num_pos + num_neg, requires_grad=True)
    pos_mask = torch.zeros(1, 1 + num_pos + num_neg, dtype=torch.bool)
    pos_mask[0, 1:1 + num_pos] = True
    optim = torch.optim.Adam([logits], lr=0.1)
    for _ in range(400):
        optim.zero_grad()
        dscl_loss(logits, pos_mask, alpha=alpha).sum().backward()
        optim.step()
    prob = logits.detach().softmax(1)[0]
    own = 1.0 / (num_pos + 1) if alpha is None else alpha
    assert prob[0].item() == pytest.approx(own, abs=2e-3)
    torch.testing.assert_close(prob[1:1 + num_pos],
                               torch.full((num_pos, ), (1 - own) / num_pos), atol=2e-3, rtol=0)
