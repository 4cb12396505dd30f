#!/usr/bin/env bash
# The decoupled two-stage pipeline (Kang et al., ICLR 2020) on CIFAR-10-LT (IR 100), offline:
# stage 1 cross-entropy ResNet-32, then cRT, LWS, tau-normalisation and NCM on its features, each
# tested on the balanced test split, with a per-class accuracy plot.
#
#   bash tools/run_decoupled.sh                      # full schedules (200 + 10 epochs)
#   EPOCHS1=20 EPOCHS2=2 bash tools/run_decoupled.sh # a shortened run
#   GPUS=2 bash tools/run_decoupled.sh               # distributed (CUDA, or gloo on CPU)
#
# Environment: EPOCHS1, EPOCHS2, GPUS (default 1), WORK_DIR (default work_dirs/decoupled_<dataset>),
# PYTHON (default python3), DATASET (cifar10 | tiny), STAGE1_CKPT (reuse a stage-1 checkpoint),
# AMP (bf16 | fp16: tools/train.py --amp), COMPILE (non-empty: tools/train.py --compile). An
# interrupted run continues from its last checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
GPUS=${GPUS:-1}
EPOCHS1=${EPOCHS1:-200}
EPOCHS2=${EPOCHS2:-10}
DATASET=${DATASET:-cifar10}
if [ "$DATASET" = tiny ]; then
    TAG=resnet18; DN=tiny-imagenet-lt-r100; STAGE1=ce_resnet18_1xb128-200e_$DN
else
    TAG=resnet32; DN=cifar10-lt-r100; STAGE1=ce_resnet32_1xb128-200e_$DN
fi
WORK_DIR=${WORK_DIR:-work_dirs/decoupled_$DN}
C=configs/decoupled

"$PYTHON" tools/prepare_data.py

train() {  # CONFIG WORK_DIR [cfg-options...]; resumes an interrupted run from its last checkpoint
    local config=$1 wd=$2; shift 2
    local opts=(--work-dir "$wd" --resume ${AMP:+--amp "$AMP"} ${COMPILE:+--compile})
    if [ "$GPUS" -gt 1 ]; then
        PYTHON=$PYTHON bash tools/dist_train.sh "$config" "$GPUS" "${opts[@]}" --cfg-options "$@"
    else
        "$PYTHON" tools/train.py "$config" "${opts[@]}" --cfg-options "$@"
    fi
}
test_() {  # CONFIG CHECKPOINT WORK_DIR [cfg-options...]
    local config=$1 ckpt=$2 wd=$3; shift 3
    "$PYTHON" tools/test.py "$config" "$ckpt" --work-dir "$wd" --out "$wd/metrics.json" \
        --out-item metrics ${1:+--cfg-options "$@"}
}

# Stage 1: cross-entropy, instance-balanced sampling (skipped when STAGE1_CKPT names a checkpoint).
S1=${STAGE1_CKPT:-$WORK_DIR/ce/epoch_$EPOCHS1.pth}
if [ -z "${STAGE1_CKPT:-}" ]; then
    train $C/$STAGE1.py "$WORK_DIR/ce" train_cfg.max_epochs="$EPOCHS1" \
        "param_scheduler.1.milestones=[$((EPOCHS1 * 4 / 5)),$((EPOCHS1 * 9 / 10))]"
    test_ $C/$STAGE1.py "$S1" "$WORK_DIR/ce"
fi

# Stage 2: classifier re-balancing on the frozen stage-1 representation.
# cRT loads the stage-1 backbone (backbone init_cfg), LWS the whole stage-1 model (model init_cfg).
for method in crt lws; do
    cfg=$C/${method}_${TAG}_1xb512-10e_$DN.py
    init=model.init_cfg.checkpoint
    [ "$method" = crt ] && init=model.backbone.init_cfg.checkpoint
    train "$cfg" "$WORK_DIR/$method" train_cfg.max_epochs="$EPOCHS2" \
        param_scheduler.0.T_max="$EPOCHS2" param_scheduler.0.end="$EPOCHS2" "$init=$S1"
    test_ "$cfg" "$WORK_DIR/$method/epoch_$EPOCHS2.pth" "$WORK_DIR/$method"
done
"$PYTHON" tools/tau_norm_sweep.py $C/tau-norm_${TAG}_$DN.py "$S1" --work-dir "$WORK_DIR/tau-norm"
test_ $C/ncm_${TAG}_$DN.py "$S1" "$WORK_DIR/ncm"

"$PYTHON" tools/analysis/collect_results.py "$WORK_DIR"
"$PYTHON" tools/analysis/plot_lt_accuracy.py \
    $(for m in ce crt lws ncm; do ls -t "$WORK_DIR/$m"/*/per_class_accuracy.csv | head -n 1; done) \
    "$WORK_DIR/tau-norm/per_class_accuracy.csv" \
    --labels CE cRT LWS NCM tau-norm --out "$WORK_DIR/per_class_accuracy.png" --title "CIFAR-10-LT (IR 100)"
echo "results: $WORK_DIR/results.md, plot: $WORK_DIR/per_class_accuracy.png"
