"""tau-normalised classifier of Kang et al., ICLR 2020, "Decoupling Representation and
Classifier for Long-Tailed Recognition", Sec. 4.2, with the helpers of its tau sweep."""
from typing import Sequence, Tuple

import numpy as np
import torch

from mmpretrain.models.heads import LinearClsHead
from mmpretrain.registry import MODELS


def tau_normalize(weight: torch.Tensor, tau: float, eps: float = 1e-12) -> torch.Tensor:
    """Rescale each class weight: ``w_j / ||w_j||^tau`` (Kang et al., Sec. 4.2).

    Args:
        weight (Tensor): Classifier weights of shape ``(num_classes, dim)``.
        tau (float): Normalisation temperature; 0 leaves the weights unchanged, 1 gives unit-norm
            rows.
        eps (float): Lower bound on the norms (guards all-zero rows). Defaults to 1e-12.

    Returns:
        Tensor: The normalised weights, same shape as ``weight``.
    """
    if weight.dim() != 2:
        raise ValueError(f'tau_normalize: weight must be (num_classes, dim), '
                         f'got shape {tuple(weight.shape)}')
    norms = weight.norm(p=2, dim=1, keepdim=True).clamp(min=eps)
    return weight / norms.pow(tau)


def parse_taus(spec: str) -> np.ndarray:
    """Parse ``'start:stop:step'`` (stop included) or ``'a,b,c'`` into an array of taus.

    Args:
        spec (str): e.g. ``'0:2:0.1'`` (21 values, the paper's sweep) or ``'0,0.5,1'``.

    Returns:
        np.ndarray: The taus, rounded to 6 decimals.
    """
    try:
        if ':' in spec:
            start, stop, step = (float(v) for v in spec.split(':'))
            if step <= 0 or stop < start:
                raise ValueError
            num = int(np.floor((stop - start) / step + 1e-6)) + 1
            taus = start + step * np.arange(num)
        else:
            taus = np.array([float(v) for v in spec.split(',')])
    except ValueError:
        raise ValueError(f"--taus: cannot parse {spec!r}; use 'start:stop:step' (step > 0) "
                         "or a comma-separated list") from None
    return np.round(taus, 6)


@torch.no_grad()
def tau_norm_accuracies(feats: torch.Tensor, labels: torch.Tensor, weight: torch.Tensor,
                        taus: Sequence[float]) -> np.ndarray:
    """Top-1 accuracy (%) of the bias-free tau-normalised classifier for each tau.

    Args:
        feats (Tensor): Features ``(N, dim)``.
        labels (Tensor): Labels ``(N, )``.
        weight (Tensor): Stage-1 classifier weights ``(num_classes, dim)``.
        taus (Sequence[float]): The taus to evaluate.

    Returns:
        np.ndarray: Accuracies in percent, one per tau.
    """
    labels = labels.to(feats.device)
    accs = []
    for tau in taus:
        logits = feats @ tau_normalize(weight.to(feats), float(tau)).t()
        accs.append((logits.argmax(dim=1) == labels).float().mean().item() * 100)
    return np.array(accs)


def choose_tau(taus: Sequence[float], val_accs: Sequence[float]) -> Tuple[float, float]:
    """Pick the tau with the best **validation** accuracy (ties: the smallest tau).

    Args:
        taus (Sequence[float]): Candidate taus.
        val_accs (Sequence[float]): Validation accuracies, one per tau.

    Returns:
        tuple[float, float]: The chosen tau and its validation accuracy.
    """
    if len(taus) != len(val_accs) or len(taus) == 0:
        raise ValueError(f'choose_tau: got {len(taus)} taus and {len(val_accs)} accuracies')
    order = np.lexsort((np.asarray(taus, dtype=float), -np.asarray(val_accs, dtype=float)))
    best = int(order[0])
    return float(taus[best]), float(val_accs[best])


@MODELS.register_module()
class TauNormHead(LinearClsHead):
    """Bias-free classifier with tau-normalised stage-1 weights (Kang et al., Sec. 4.2).

    ``logits_j = (w_j / ||w_j||^tau) . x``; the bias of the stage-1 classifier is dropped and
    nothing is trained (``fc`` is frozen). ``tau=0`` is the plain linear classifier without
    bias. The parameters are those of :class:`LinearClsHead` (``fc.weight``, ``fc.bias``), so
    a stage-1 checkpoint loads unchanged; pick ``tau`` on a validation split with
    ``tools/tau_norm_sweep.py``.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Feature dimension.
        tau (float): Normalisation temperature. Defaults to 1.0.
        **kwargs: Other arguments of :class:`LinearClsHead`.
    """

    def __init__(self, num_classes: int, in_channels: int, tau: float = 1.0,
                 **kwargs) -> None:
        super().__init__(num_classes=num_classes, in_channels=in_channels, **kwargs)
        if tau < 0:
            raise ValueError(f'TauNormHead: tau={tau} must be >= 0')
        self.tau = float(tau)
        for param in self.fc.parameters():
            param.requires_grad = False

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Return ``x @ tau_normalize(W, tau).T`` of shape ``(N, num_classes)``."""
        return self.pre_logits(feats) @ tau_normalize(self.fc.weight, self.tau).t()
