# Copyright (c) mmlt contributors. All rights reserved.
"""Sweep tau of the tau-normalised classifier (Kang et al., ICLR 2020, Sec. 4.2).

The features of the config's ``val_dataloader`` and ``test_dataloader`` are extracted once with
the stage-1 checkpoint; for each tau the bias-free classifier ``w_j / ||w_j||^tau`` is scored
on the validation split, the best tau is chosen on **validation only**, and the test accuracy of
that tau is reported (with :class:`mmlt.evaluation.metrics.LongTailAccuracy` when available).

It also writes ``tau_norm_best.py``, the config with the chosen tau, so that
``tools/test.py tau_norm_best.py CHECKPOINT`` reproduces the reported test metrics.

Example:
    python tools/tau_norm_sweep.py configs/ce_resnet32_cifar10-lt.py work_dirs/ce/epoch_200.pth \
        --taus 0:2:0.1 --work-dir work_dirs/tau_norm
"""
import argparse
import json
import os
import os.path as osp
import warnings

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, load_checkpoint

import mmlt  # noqa: F401
from mmlt.engine.hooks.class_mean_hook import extract_features
from mmlt.models.heads.tau_norm_head import (choose_tau, parse_taus, tau_norm_accuracies,
                                             tau_normalize)
from mmpretrain.registry import MODELS


def parse_args():
    parser = argparse.ArgumentParser(description='Pick tau of tau-normalisation on val')
    parser.add_argument('config', help='config with model, val_dataloader, test_dataloader')
    parser.add_argument('checkpoint', help='stage-1 checkpoint (with head.fc.weight)')
    parser.add_argument('--taus', default='0:2:0.1',
                        help="'start:stop:step' (stop included) or 'a,b,c' (default 0:2:0.1)")
    parser.add_argument('--work-dir', help='where tau_norm_sweep.json is written '
                        '(default ./work_dirs/<config name>)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value pairs')
    return parser.parse_args()


def build_model(cfg: Config, checkpoint: str, device: str) -> torch.nn.Module:
    """Build ``cfg.model`` as the Runner does (with the config's top-level
    ``data_preprocessor``: normalisation, BGR->RGB) and load the whole stage-1 checkpoint."""
    model_cfg = cfg.model.copy()
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = MODELS.build(model_cfg)
    load_checkpoint(model, checkpoint, map_location='cpu', strict=False, logger='current')
    fc = getattr(getattr(model, 'head', None), 'fc', None)
    if not isinstance(fc, torch.nn.Linear):
        raise TypeError(f'{checkpoint}: the model head has no linear `fc` layer to tau-normalise')
    return model.to(device).eval()


def test_metrics(scores: torch.Tensor, labels: torch.Tensor, dataset_meta: dict,
                 out_dir: str) -> dict:
    """LongTailAccuracy of ``scores`` (per-class CSV in ``out_dir``), else plain top-1 (%)."""
    try:
        from mmlt.evaluation.metrics import LongTailAccuracy
    except ImportError:
        top1 = (scores.argmax(1) == labels).float().mean().item() * 100
        return {'top1': top1}
    metric = LongTailAccuracy(out_dir=out_dir)
    metric.dataset_meta = dataset_meta
    probs = scores.softmax(dim=1).cpu()
    metric.process(None, [dict(pred_score=p, gt_label=label.view(1))
                          for p, label in zip(probs, labels.cpu())])
    return {k: float(v) for k, v in metric.evaluate(len(labels)).items()}


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    work_dir = args.work_dir or osp.join('./work_dirs',
                                         osp.splitext(osp.basename(args.config))[0])
    os.makedirs(work_dir, exist_ok=True)

    if cfg.val_dataloader.dataset == cfg.test_dataloader.dataset:
        warnings.warn(f'{args.config}: val_dataloader and test_dataloader use the same '
                      'dataset; tau would be chosen on the test split')
    model = build_model(cfg, args.checkpoint, args.device)
    weight = model.head.fc.weight.detach()
    val_loader = Runner.build_dataloader(cfg.val_dataloader)
    test_loader = Runner.build_dataloader(cfg.test_dataloader)
    val_feats, val_labels = extract_features(model, val_loader, progress='val features')
    test_feats, test_labels = extract_features(model, test_loader, progress='test features')
    val_feats, test_feats = val_feats.to(args.device), test_feats.to(args.device)

    taus = parse_taus(args.taus)
    val_accs = tau_norm_accuracies(val_feats, val_labels, weight, taus)
    tau, val_acc = choose_tau(taus, val_accs)
    scores = test_feats @ tau_normalize(weight.to(test_feats), tau).t()
    test = test_metrics(scores, test_labels.to(scores.device), test_loader.dataset.metainfo,
                        work_dir)

    print(f'{"tau":>6} {"val top-1":>10}')
    for t, acc in zip(taus, val_accs):
        print(f'{t:6.2f} {acc:10.2f}' + ('  <- chosen' if t == tau else ''))
    print(f'chosen tau={tau:.2f} (val top-1 {val_acc:.2f}); test: '
          + ', '.join(f'{k}={v:.2f}' for k, v in test.items()))
    result = dict(config=args.config, checkpoint=args.checkpoint, taus=taus.tolist(),
                  val_top1=[float(a) for a in val_accs], tau=tau, val_top1_at_tau=val_acc,
                  num_val=len(val_labels), num_test=len(test_labels), test=test)
    # the chosen model as a config tools/test.py runs: python tools/test.py <it> CHECKPOINT
    best = Config.fromfile(args.config)
    if args.cfg_options:
        best.merge_from_dict(args.cfg_options)
    best.merge_from_dict({'model.head.type': 'TauNormHead', 'model.head.tau': float(tau)})
    best_file = osp.join(work_dir, 'tau_norm_best.py')
    best.dump(best_file)
    result['config_with_tau'] = best_file
    out = osp.join(work_dir, 'tau_norm_sweep.json')
    with open(out, 'w') as f:
        json.dump(result, f, indent=2)
    print(f'results written to {out}; to test the chosen tau: '
          f'python tools/test.py {best_file} {args.checkpoint}')


if __name__ == '__main__':
    main()
