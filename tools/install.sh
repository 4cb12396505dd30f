#!/usr/bin/env bash
# Install mmlt and the tested OpenMMLab stack (pins in requirements.txt) into the current Python.
#
# mmcv is published on PyPI as a source distribution only, so its wheel (with the compiled ops that
# mmcv.ops.RoIAlign and mmdet need) is built once and cached in $MMLT_WHEEL_CACHE; later installs
# take the cached wheel in seconds. The first build takes about 30-45 minutes on 2 CPU cores.
#
# Environment: PYTHON (default python3), MMLT_WHEEL_CACHE (default ~/.cache/mmlt/wheels),
#              MAX_JOBS (compile jobs, default: number of cores).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${PYTHON:-python3}
PIP=("$PY" -m pip install --disable-pip-version-check --progress-bar off)
REQ="$ROOT/requirements.txt"
pin() { grep -E "^$1([=<>!~ ]|$)" "$REQ" | head -n 1; }

MMCV_PIN=$(pin mmcv)
MMCV_VERSION=${MMCV_PIN#mmcv==}
TORCH_PIN=$(pin torch)

echo "[install] build tools and $TORCH_PIN"
# mmcv's setup.py imports pkg_resources (removed from setuptools 82).
"${PIP[@]}" "setuptools<82" wheel ninja "$TORCH_PIN" "$(pin torchvision)" "$(pin numpy)" "$(pin mmengine)" \
    "$(pin opencv-python)"

have_mmcv() {
    "$PY" - "$MMCV_VERSION" <<'PYEOF' >/dev/null 2>&1
import sys
import mmcv
from mmcv.ops import RoIAlign  # noqa: F401  (needs the compiled mmcv._ext)
assert mmcv.__version__ == sys.argv[1], mmcv.__version__
PYEOF
}

if have_mmcv; then
    echo "[install] mmcv $MMCV_VERSION with ops already installed"
else
    TAG=$("$PY" -c "import sys, torch; print(f'torch{torch.__version__.split(\"+\")[0]}-cp{sys.version_info.major}{sys.version_info.minor}')")
    CACHE=${MMLT_WHEEL_CACHE:-$HOME/.cache/mmlt/wheels}/$TAG
    mkdir -p "$CACHE"
    WHEEL=$(ls "$CACHE"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true)
    if [ -z "$WHEEL" ]; then
        echo "[install] building mmcv $MMCV_VERSION with ops for $TAG (one time, about 30-45 min on 2 cores)"
        WORK=$(mktemp -d)
        trap 'rm -rf "$WORK"' EXIT
        "$PY" -m pip download --disable-pip-version-check --no-deps --no-binary mmcv --no-build-isolation \
            "$MMCV_PIN" -d "$WORK" >/dev/null
        tar -xzf "$WORK"/mmcv-"$MMCV_VERSION".tar.gz -C "$WORK"
        # torch >= 2.10's ATen headers need C++20; mmcv hard-codes -std=c++17 (CXXFLAGS cannot override it).
        sed -i 's/-std=c++17/-std=c++20/g' "$WORK/mmcv-$MMCV_VERSION/setup.py"
        MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
            "$PY" -m pip wheel --disable-pip-version-check --no-deps --no-build-isolation \
            "$WORK/mmcv-$MMCV_VERSION" -w "$WORK/dist"
        cp "$WORK"/dist/mmcv-*.whl "$CACHE"/
        WHEEL=$(ls "$CACHE"/mmcv-"$MMCV_VERSION"-*.whl | head -n 1)
    fi
    echo "[install] mmcv from $WHEEL"
    "${PIP[@]}" "$WHEEL"
fi

echo "[install] the rest of requirements.txt and mmlt (editable)"
"${PIP[@]}" -r "$REQ" -e "$ROOT"
have_mmcv || { echo "[install] mmcv.ops does not import after install" >&2; exit 1; }
echo "[install] done"
