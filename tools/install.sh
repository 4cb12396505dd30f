#!/usr/bin/env bash
# Install mmlt and the tested OpenMMLab stack (pins in requirements.txt) into the current Python.
#
# GPU machine: install your CUDA build of torch and its torchvision first, then run this script. A torch
# that imports is kept, never replaced (pip gets it as a constraint); the pinned torch/torchvision of
# requirements.txt are installed only when no torch imports, or with MMLT_FORCE_TORCH=1 (pip then keeps
# a torch that already satisfies the pin, e.g. 2.14.1+cu128 for torch==2.14.1). mmcv's ops are built
# with CUDA kernels (FORCE_CUDA=1) when torch is a CUDA build (torch.version.cuda), an nvcc is found
# ($CUDA_HOME/bin/nvcc, else nvcc on PATH) and torch sees a GPU; MMLT_CUDA_OPS=1 builds them without a
# visible GPU (a build box), MMLT_CUDA_OPS=0 never. nvcc's CUDA major must equal torch's: if it does not,
# the script stops and says so (it does not fall back to CPU ops). Everywhere else (no nvcc, CPU torch,
# no GPU, e.g. CI) mmcv's ops are CPU-only.
#
# mmcv is published on PyPI as a source distribution only, so its wheel (with the compiled ops that
# mmcv.ops.RoIAlign and mmdet need) is built once and cached in $MMLT_WHEEL_CACHE/<TAG>; later installs
# take the cached wheel in seconds. TAG is torch<version>-cp<XY> for CPU ops (torch2.14.1-cp311, the
# local +cu130 dropped) and torch<version>-cu<XYZ>-cp<XY> for CUDA ops (torch2.14.1-cu130-cp311), so a
# CPU-ops wheel is never reused for CUDA ops. An installed mmcv whose ops were compiled without CUDA
# (mmcv.ops.get_compiling_cuda_version() is 'not available'; a compile-time fact, no GPU needed) is
# replaced when CUDA ops are wanted. The first CPU-ops build takes about 30-45 minutes on 2 CPU cores.
#
# Environment: PYTHON (default python3), MMLT_WHEEL_CACHE (default ~/.cache/mmlt/wheels),
#              MAX_JOBS (compile jobs, default: number of cores), MMLT_FORCE_TORCH=1,
#              MMLT_CUDA_OPS (auto, 1 or 0; default auto), CUDA_HOME (default: the toolkit of the nvcc
#              on PATH), TORCH_CUDA_ARCH_LIST (read by the CUDA build),
#              MMLT_INSTALL_DRY_RUN=1 (print the decisions; install, build and create nothing).
# The functions below can be sourced (tests/test_install_script.py); main runs only when executed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${PYTHON:-python3}
PIP=("$PY" -m pip install --disable-pip-version-check --progress-bar off)
REQ="$ROOT/requirements.txt"
pin() { grep -E "^$1([=<>!~ ]|$)" "$REQ" | head -n 1; }

MMCV_PIN=$(pin mmcv)
MMCV_VERSION=${MMCV_PIN#mmcv==}
TORCH_PIN=$(pin torch)
DRY_RUN=${MMLT_INSTALL_DRY_RUN:-0}

say() { echo "[install] $*"; }
die() { echo "[install] error: $*" >&2; exit 1; }

# Sets PYTAG (cp311), TORCH_VERSION (torch.__version__, empty when torch does not import),
# TORCH_DIST (its pip version, for the constraint), TORCH_CUDA (torch.version.cuda, empty for a CPU
# build), TORCH_GPU (1 when torch.cuda.is_available()), TV_VERSION, TV_DIST (torchvision, empty if absent).
probe_python() {
    local out key value
    out=$("$PY" - <<'PYEOF'
import sys
import warnings

warnings.simplefilter('ignore')  # torch warns when it finds no driver


def dist(name, fallback):
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:
        return fallback


print(f'PYTAG=cp{sys.version_info.major}{sys.version_info.minor}')
try:
    import torch
except Exception:
    pass
else:
    print(f'TORCH_VERSION={torch.__version__}')
    print(f'TORCH_DIST={dist("torch", torch.__version__)}')
    print(f'TORCH_CUDA={torch.version.cuda or ""}')
    print(f'TORCH_GPU={int(torch.cuda.is_available())}')
    try:
        import torchvision
    except Exception:
        pass
    else:
        print(f'TV_VERSION={torchvision.__version__}')
        print(f'TV_DIST={dist("torchvision", torchvision.__version__)}')
PYEOF
) || die "$PY does not run (set PYTHON)"
    PYTAG= TORCH_VERSION= TORCH_DIST= TORCH_CUDA= TORCH_GPU=0 TV_VERSION= TV_DIST=
    while IFS='=' read -r key value; do
        case $key in
            PYTAG | TORCH_VERSION | TORCH_DIST | TORCH_CUDA | TORCH_GPU | TV_VERSION | TV_DIST)
                printf -v "$key" '%s' "$value" ;;
        esac
    done <<<"$out"
}

# Sets TORCH_ACTION: keep (a torch imports and MMLT_FORCE_TORCH is not 1) or install (the pins).
decide_torch() {
    if [ -n "$TORCH_VERSION" ] && [ "${MMLT_FORCE_TORCH:-0}" != 1 ]; then
        TORCH_ACTION=keep
        [ -n "$TV_VERSION" ] || die "torch $TORCH_VERSION is kept but torchvision does not import: install" \
            "the torchvision built for this torch (from the index you installed torch from), or rerun with" \
            "MMLT_FORCE_TORCH=1 to install the pinned $TORCH_PIN and $(pin torchvision)"
    else
        TORCH_ACTION=install
    fi
}

# requirements file FILE without its torch and torchvision lines (any specifier or marker), to stdout.
filter_requirements() {
    grep -Eiv '^[[:space:]]*(torch|torchvision)[[:space:]]*([=<>!~;[@]|$)' "$1" || true
}

# The CUDA release of nvcc ($1), e.g. 13.0; empty if its --version names none.
nvcc_cuda_version() {
    { "$1" --version 2>/dev/null || true; } | sed -n 's/.*release \([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p' | head -n 1
}

# The toolkit directory of nvcc ($1): nvcc's own TOP (right for wrapper scripts), else <nvcc dir>/..
nvcc_cuda_home() {
    local top
    top=$({ "$1" --dryrun -c -x cu /dev/null -o /dev/null 2>&1 || true; } | sed -n 's/^#\$ TOP=//p' | head -n 1)
    if [ -n "$top" ] && [ -d "$top" ]; then
        (cd "$top" && pwd -P)
    else
        (cd "$(dirname "$(readlink -f "$1")")/.." && pwd -P)
    fi
}

# Sets CUDA_OPS (1: build mmcv's CUDA kernels, 0: CPU-only ops), CUDA_REASON, NVCC, NVCC_CUDA and,
# for CUDA ops, CUDA_HOME. Needs probe_python. Stops when CUDA ops are wanted but nvcc's CUDA major
# differs from torch's, or when MMLT_CUDA_OPS=1 cannot be honoured.
decide_cuda_ops() {
    local want=${MMLT_CUDA_OPS:-auto} home=${CUDA_HOME:-${CUDA_PATH:-}}
    CUDA_OPS=0 NVCC= NVCC_CUDA=
    case $want in
        auto | 0 | 1) ;;
        *) die "MMLT_CUDA_OPS must be auto, 1 or 0 (got '$want')" ;;
    esac
    if [ -n "$home" ] && [ -x "$home/bin/nvcc" ]; then
        NVCC=$home/bin/nvcc  # torch's cpp_extension builds with CUDA_HOME's nvcc
    else
        NVCC=$(command -v nvcc || true)
    fi
    [ -z "$NVCC" ] || NVCC_CUDA=$(nvcc_cuda_version "$NVCC")
    if [ "$want" = 0 ]; then
        CUDA_REASON="MMLT_CUDA_OPS=0"
        return
    elif [ -z "$TORCH_CUDA" ]; then
        CUDA_REASON="torch $TORCH_VERSION is a CPU build"
    elif [ -z "$NVCC" ]; then
        CUDA_REASON="no nvcc on PATH; torch $TORCH_VERSION is a CUDA $TORCH_CUDA build"
    elif [ "$want" = auto ] && [ "$TORCH_GPU" != 1 ]; then
        CUDA_REASON="torch sees no GPU; nvcc ${NVCC_CUDA:-?} at $NVCC, MMLT_CUDA_OPS=1 builds CUDA ops anyway"
    elif [ -z "$NVCC_CUDA" ]; then
        die "cannot read the CUDA release from '$NVCC --version'; fix the CUDA toolkit," \
            "or set MMLT_CUDA_OPS=0 for CPU-only mmcv ops"
    elif [ "${NVCC_CUDA%%.*}" != "${TORCH_CUDA%%.*}" ]; then
        die "nvcc at $NVCC is CUDA $NVCC_CUDA but torch $TORCH_VERSION was built with CUDA $TORCH_CUDA:" \
            "the major versions differ, so mmcv's CUDA ops would not build or load against this torch." \
            "Put a CUDA ${TORCH_CUDA%%.*}.x toolkit first (PATH or CUDA_HOME), install a torch built for" \
            "CUDA ${NVCC_CUDA%%.*}, or set MMLT_CUDA_OPS=0 for CPU-only mmcv ops"
    else
        CUDA_OPS=1
        CUDA_REASON="nvcc $NVCC_CUDA at $NVCC, torch CUDA $TORCH_CUDA"
        [ "$want" = auto ] && CUDA_REASON+=", GPU visible" || CUDA_REASON+=", MMLT_CUDA_OPS=1"
        [ "$NVCC_CUDA" = "$TORCH_CUDA" ] || CUDA_REASON+=" (minor versions differ: torch warns, it builds)"
        CUDA_HOME=${home:-$(nvcc_cuda_home "$NVCC")}
        return
    fi
    [ "$want" != 1 ] || die "MMLT_CUDA_OPS=1 but $CUDA_REASON"
}

# The wheel cache folder name: today's torch<version>-cp<XY> for CPU ops (kept so that existing caches
# stay valid), torch<version>-cu<XYZ>-cp<XY> for CUDA ops.
cache_tag() {
    local base=${TORCH_VERSION%%+*}
    if [ "$CUDA_OPS" = 1 ]; then
        echo "torch$base-cu${TORCH_CUDA//./}-$PYTAG"
    else
        echo "torch$base-$PYTAG"
    fi
}

have_mmcv() {
    "$PY" - "$MMCV_VERSION" <<'PYEOF' >/dev/null 2>&1
import sys
import mmcv
from mmcv.ops import RoIAlign  # noqa: F401  (needs the compiled mmcv._ext)
assert mmcv.__version__ == sys.argv[1], mmcv.__version__
PYEOF
}

# The CUDA release mmcv._ext was compiled with ('not available' for CPU-only ops; empty if no mmcv).
mmcv_compiled_cuda() {
    "$PY" - <<'PYEOF' 2>/dev/null || true
from mmcv.ops import get_compiling_cuda_version
print(get_compiling_cuda_version())
PYEOF
}

# Sets MMCV_STATE: ok (the pinned mmcv with ops, with CUDA kernels of torch's CUDA major when CUDA_OPS=1),
# cpu-ops (that mmcv, but its ops lack the CUDA kernels wanted), missing; MMCV_CUDA: mmcv_compiled_cuda.
check_mmcv() {
    MMCV_CUDA=
    if ! have_mmcv; then
        MMCV_STATE=missing
        return
    fi
    MMCV_STATE=ok
    if [ "$CUDA_OPS" = 1 ]; then
        MMCV_CUDA=$(mmcv_compiled_cuda)
        [ "${MMCV_CUDA%%.*}" = "${TORCH_CUDA%%.*}" ] || MMCV_STATE=cpu-ops
    fi
}

main() {
    local torch_kept_note req_args constraint_args cache wheel tag
    INSTALL_TMP=$(mktemp -d)
    trap 'rm -rf "$INSTALL_TMP"' EXIT
    local tmp=$INSTALL_TMP

    probe_python
    decide_torch
    say "python: $PY ($PYTAG)"
    if [ "$TORCH_ACTION" = keep ]; then
        torch_kept_note="CUDA ${TORCH_CUDA:-none}, GPU visible: $([ "$TORCH_GPU" = 1 ] && echo yes || echo no)"
        say "torch: keep the installed torch $TORCH_VERSION ($torch_kept_note) and torchvision $TV_VERSION" \
            "(MMLT_FORCE_TORCH=1 installs the pinned $TORCH_PIN)"
        printf 'torch==%s\ntorchvision==%s\n' "$TORCH_DIST" "$TV_DIST" >"$tmp/constraints.txt"
        filter_requirements "$REQ" >"$tmp/requirements.txt"
        constraint_args=(-c "$tmp/constraints.txt")
        req_args=(-r "$tmp/requirements.txt")
        say "requirements: requirements.txt without torch/torchvision:" \
            "$(grep -Ev '^[[:space:]]*(#|$)' "$tmp/requirements.txt" | tr '\n' ' ')"
        say "constraints: torch==$TORCH_DIST torchvision==$TV_DIST (pip may not replace them)"
    else
        if [ -n "$TORCH_VERSION" ]; then
            say "torch: install the pinned $TORCH_PIN $(pin torchvision) (MMLT_FORCE_TORCH=1; installed: $TORCH_VERSION)"
        else
            say "torch: install the pinned $TORCH_PIN $(pin torchvision) (no torch imports)"
        fi
        constraint_args=()
        req_args=(-r "$REQ")
        say "requirements: requirements.txt"
    fi

    if [ "$DRY_RUN" = 1 ] && [ "$TORCH_ACTION" = install ]; then
        say "mmcv: ops, wheel cache and wheel are decided once $TORCH_PIN is installed"
        say "dry run: nothing installed or built"
        return 0
    fi
    if [ "$DRY_RUN" != 1 ]; then
        echo "[install] build tools$([ "$TORCH_ACTION" = install ] && echo " and $TORCH_PIN")"
        # mmcv's setup.py imports pkg_resources (removed from setuptools 82).
        if [ "$TORCH_ACTION" = install ]; then
            "${PIP[@]}" "setuptools<82" wheel ninja "$TORCH_PIN" "$(pin torchvision)" "$(pin numpy)" \
                "$(pin mmengine)" "$(pin opencv-python)"
            probe_python  # the torch just installed decides the ops and the wheel cache
            [ -n "$TORCH_VERSION" ] || die "torch does not import after installing $TORCH_PIN"
        else
            "${PIP[@]}" "${constraint_args[@]}" "setuptools<82" wheel ninja "$(pin numpy)" "$(pin mmengine)" \
                "$(pin opencv-python)"
        fi
    fi

    decide_cuda_ops
    if [ "$CUDA_OPS" = 1 ]; then
        say "mmcv ops: CUDA ($CUDA_REASON; CUDA_HOME=$CUDA_HOME)"
    else
        say "mmcv ops: CPU only ($CUDA_REASON)"
    fi
    tag=$(cache_tag)
    cache=${MMLT_WHEEL_CACHE:-$HOME/.cache/mmlt/wheels}/$tag
    say "wheel cache: $cache"

    check_mmcv
    if [ "$MMCV_STATE" = ok ]; then
        echo "[install] mmcv $MMCV_VERSION with ops already installed$([ "$CUDA_OPS" = 1 ] && echo " (CUDA $MMCV_CUDA)")"
    else
        if [ "$MMCV_STATE" = cpu-ops ]; then
            say "mmcv: the installed mmcv $MMCV_VERSION has ops compiled without CUDA $TORCH_CUDA" \
                "(get_compiling_cuda_version: ${MMCV_CUDA:-?}); replacing it"
        fi
        wheel=$(ls "$cache"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true)
        if [ -n "$wheel" ]; then
            say "mmcv wheel: reuse $wheel"
        else
            say "mmcv wheel: build mmcv $MMCV_VERSION into $cache"
        fi
        if [ "$DRY_RUN" = 1 ]; then
            say "dry run: nothing installed or built"
            return 0
        fi
        if [ -z "$wheel" ]; then
            echo "[install] building mmcv $MMCV_VERSION with ops for $tag (one time, about 30-45 min on 2 cores for CPU ops, longer with CUDA)"
            mkdir -p "$cache" "$tmp/build"
            "$PY" -m pip download --disable-pip-version-check --no-deps --no-binary mmcv --no-build-isolation \
                "$MMCV_PIN" -d "$tmp/build" >/dev/null
            tar -xzf "$tmp/build"/mmcv-"$MMCV_VERSION".tar.gz -C "$tmp/build"
            # torch >= 2.10's ATen headers need C++20; mmcv hard-codes -std=c++17 (CXXFLAGS cannot override it).
            sed -i 's/-std=c++17/-std=c++20/g' "$tmp/build/mmcv-$MMCV_VERSION/setup.py"
            if [ "$CUDA_OPS" = 1 ]; then
                MMCV_WITH_OPS=1 FORCE_CUDA=1 CUDA_HOME=$CUDA_HOME MAX_JOBS=${MAX_JOBS:-$(nproc)} \
                    "$PY" -m pip wheel --disable-pip-version-check --no-deps --no-build-isolation \
                    "$tmp/build/mmcv-$MMCV_VERSION" -w "$tmp/build/dist"
            else
                # mmcv's setup.py compiles CUDA kernels whenever torch sees a GPU: hide it for CPU-only ops.
                MMCV_WITH_OPS=1 FORCE_CUDA=0 CUDA_VISIBLE_DEVICES= MAX_JOBS=${MAX_JOBS:-$(nproc)} \
                    "$PY" -m pip wheel --disable-pip-version-check --no-deps --no-build-isolation \
                    "$tmp/build/mmcv-$MMCV_VERSION" -w "$tmp/build/dist"
            fi
            cp "$tmp/build"/dist/mmcv-*.whl "$cache"/
            wheel=$(ls "$cache"/mmcv-"$MMCV_VERSION"-*.whl | head -n 1)
        fi
        echo "[install] mmcv from $wheel"
        if [ "$MMCV_STATE" = cpu-ops ]; then
            # Same version as the installed one: pip would call it satisfied. Its dependencies come with
            # requirements.txt below.
            "${PIP[@]}" --force-reinstall --no-deps "$wheel"
        else
            "${PIP[@]}" ${constraint_args[@]+"${constraint_args[@]}"} "$wheel"
        fi
    fi

    if [ "$DRY_RUN" = 1 ]; then
        say "dry run: nothing installed or built"
        return 0
    fi
    echo "[install] the rest of requirements.txt and mmlt (editable)"
    "${PIP[@]}" ${constraint_args[@]+"${constraint_args[@]}"} "${req_args[@]}" -e "$ROOT"
    have_mmcv || { echo "[install] mmcv.ops does not import after install" >&2; exit 1; }
    if [ "$CUDA_OPS" = 1 ]; then
        check_mmcv
        [ "$MMCV_STATE" = ok ] || die "mmcv's ops have no CUDA $TORCH_CUDA kernels after install" \
            "(get_compiling_cuda_version: ${MMCV_CUDA:-?}); delete ${wheel:-the cached wheel} and rerun"
    fi
    echo "[install] done"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    main "$@"
fi
