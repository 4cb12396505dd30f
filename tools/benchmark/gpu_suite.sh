#!/usr/bin/env bash
# The GPU checks of mmlt in one script, for a bare CUDA machine that has only Python and torch and
# no network: installs the carried wheels offline, then runs, in under 8 minutes on one GPU,
#   1. the CUDA-marked tests (pytest -m cuda),
#   2. a one-GPU NCCL tools/dist_train.sh of DSCL + PBSD (CIFAR-10-LT config) with --amp bf16,
#   3. tools/benchmark/gpu_throughput.py (ResNet-50 DSCL + PBSD step: fp32 / bf16 / channels_last),
#   4. the batched-augmentation DSCL + PBSD CIFAR-10-LT epoch time (tools/benchmark/train_speed.py,
#      one epoch of the 12,406 training images, bf16 + channels_last, with and without compile).
# Everything it measures lands in $OUT (default work_dirs/gpu_suite): one markdown file per step.
#
#   bash tools/benchmark/gpu_suite.sh prepare [WHEELHOUSE]  # here, with PyPI: wheels for the GPU box
#   bash tools/benchmark/gpu_suite.sh install WHEELHOUSE/part-N  # there: install one part offline
#   bash tools/benchmark/gpu_suite.sh run [WHEELHOUSE]      # there: install what is left, run, report
#   bash tools/benchmark/gpu_suite.sh dry-run               # print the steps, check their files
#
# WHEELHOUSE defaults to wheelhouse/ (ignored by git). `prepare` splits the wheels into parts of at
# most 60 MB (opencv, scipy and numpy alone exceed a 64 MiB transfer), so a machine reached through
# a size-limited copy of the tree gets one part per call (`install`) while it stays up; `run`
# installs every part it finds and skips packages that already import. Images: the CIFAR-10 JPEG
# release in data/CIFAR-10-images when present, else synthetic JPEGs of the same count and size
# (tools/benchmark/make_synthetic_cifar.py; speed only, their accuracy means nothing).
# Environment: PYTHON (default python3), OUT, PY_TAG (prepare: target Python, default 312).
set -euo pipefail
cd "$(dirname "$0")/../.."
MODE=${1:-dry-run}
WHEELHOUSE=${2:-wheelhouse}
PY=${PYTHON:-python3}
OUT=${OUT:-work_dirs/gpu_suite}
CONFIG=configs/dscl/dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100.py
# what mmlt needs beyond torch (pure-Python or abi3 wheels, no dependency resolution offline)
PACKAGES=(mmengine==0.10.7 mmpretrain==1.2.0 kornia==0.9.0 kornia-rs addict yapf termcolor rich
          markdown-it-py mdurl pygments platformdirs tomli mat4py modelindex ordered-set einops
          'opencv-python-headless<5' numpy pillow matplotlib contourpy cycler fonttools kiwisolver
          pyparsing python-dateutil six packaging scipy pytest iniconfig pluggy)

step() { echo; echo "=== $*"; }

prepare() {
    mkdir -p "$WHEELHOUSE"
    step "download wheels for CPython ${PY_TAG:-312} manylinux x86_64 into $WHEELHOUSE"
    "$PY" -m pip download --disable-pip-version-check --only-binary=:all: --no-deps \
        --python-version "${PY_TAG:-312}" --platform manylinux2014_x86_64 \
        --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 \
        -d "$WHEELHOUSE" "${PACKAGES[@]}"
    step "mmcv 2.1.0 without compiled ops (pure Python; PatchRoINeck falls back to torchvision)"
    local work
    work=$(mktemp -d)
    "$PY" -m pip download --disable-pip-version-check --no-deps --no-binary mmcv \
        --no-build-isolation mmcv==2.1.0 -d "$work" >/dev/null
    tar -xzf "$work"/mmcv-2.1.0.tar.gz -C "$work"
    MMCV_WITH_OPS=0 "$PY" -m pip wheel --disable-pip-version-check --no-deps \
        --no-build-isolation "$work/mmcv-2.1.0" -w "$WHEELHOUSE"
    rm -rf "$work"
    step "split into parts of at most 60 MB"
    "$PY" - "$WHEELHOUSE" <<'PYEOF'
import pathlib, sys
house = pathlib.Path(sys.argv[1])
limit, parts = 60e6, []
for whl in sorted(house.glob('*.whl'), key=lambda p: -p.stat().st_size):
    size = whl.stat().st_size
    part = next((p for p in parts if p[0] + size <= limit), None)
    if part is None:
        part = [0, []]
        parts.append(part)
    part[0] += size
    part[1].append(whl)
for i, (size, wheels) in enumerate(parts, 1):
    folder = house / f'part-{i}'
    folder.mkdir(exist_ok=True)
    for whl in wheels:
        whl.rename(folder / whl.name)
    print(f'{folder}: {len(wheels)} wheels, {size / 1e6:.1f} MB')
PYEOF
}

install_offline() {  # DIR: install the wheels in DIR and its part-* folders
    local house=$1
    step "install carried wheels from $house (skipping what is already importable)"
    local wheels=()
    for whl in "$house"/*.whl "$house"/part-*/*.whl; do
        [ -e "$whl" ] || continue
        local name
        name=$(basename "$whl" | cut -d- -f1 | tr '[:upper:]' '[:lower:]')
        local module=${name//-/_}
        case $module in
            opencv_python_headless) module=cv2 ;; python_dateutil) module=dateutil ;;
            pillow) module=PIL ;; mmcv_lite) module=mmcv ;; fonttools) module=fontTools ;;
            markdown_it_py) module=markdown_it ;;
        esac
        "$PY" -c "import $module" 2>/dev/null || wheels+=("$whl")
    done
    if [ ${#wheels[@]} -gt 0 ]; then
        "$PY" -m pip install --disable-pip-version-check --no-index --no-deps "${wheels[@]}"
    fi
}

data_root() {
    if [ -d data/CIFAR-10-images/train ]; then
        echo data/CIFAR-10-images
    else
        [ -d data/synthetic-cifar10/train ] ||
            "$PY" tools/benchmark/make_synthetic_cifar.py data/synthetic-cifar10 \
                --per-class 5000 --test-per-class 200 >/dev/null
        echo data/synthetic-cifar10
    fi
}

commands() {  # the steps, one per line
    local root=$1
    echo "$PY -m pytest -m cuda tests -q -p no:cacheprovider"
    echo "PYTHON=$PY bash tools/dist_train.sh $CONFIG 1 --amp bf16 --work-dir $OUT/dist_train" \
         "--cfg-options train_dataloader.dataset.data_root=$root train_cfg.max_epochs=1" \
         "train_dataloader.dataset.indices=2560 default_hooks.logger.interval=1"
    echo "$PY tools/benchmark/gpu_throughput.py --out $OUT/gpu_throughput.md"
    echo "$PY tools/benchmark/train_speed.py --device cuda --methods dscl-pbsd --images 12406" \
         "--variants 'batched + channels_last + bf16' 'batched + channels_last + bf16 + compile'" \
         "--data-root $root --out $OUT/epoch_time.md"
}

case $MODE in
    prepare)
        prepare ;;
    install)
        install_offline "$WHEELHOUSE" ;;
    run)
        "$PY" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'"
        install_offline "$WHEELHOUSE"
        export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}  # mmlt from this tree
        mkdir -p "$OUT"
        root=$(data_root)
        status=0
        while read -r cmd; do
            step "$cmd"
            start=$(date +%s)
            bash -c "$cmd" 2>&1 | tee -a "$OUT/log.txt" || status=1
            echo "($(( $(date +%s) - start )) s)" | tee -a "$OUT/log.txt"
        done < <(commands "$root")
        step "results in $OUT"; ls "$OUT"
        exit $status ;;
    dry-run)
        for f in "$CONFIG" tools/dist_train.sh tools/benchmark/gpu_throughput.py \
                 tools/benchmark/train_speed.py tools/benchmark/make_synthetic_cifar.py \
                 tests/test_cuda.py; do
            [ -e "$f" ] || { echo "missing: $f" >&2; exit 1; }
        done
        commands data/CIFAR-10-images ;;
    *)
        echo "usage: $0 prepare|install|run|dry-run [WHEELHOUSE]" >&2; exit 2 ;;
esac
