"""Fixes for the tested stack (torch >= 2.6, numpy 2, mmengine 0.10.7, mmpretrain 1.2.0).

Applied once on ``import mmlt``; each fix is idempotent and narrow, and has a test in
``tests/test_compat.py``.

1. **Checkpoint loading under torch >= 2.6.** ``torch.load`` defaults to ``weights_only=True`` and
   mmengine 0.10.7 calls it without the argument, so ``Runner.resume``/``load_from`` fail with
   "Weights only load failed ... HistoryBuffer". Instead of switching the safety check off, the exact
   globals an mmengine checkpoint holds are allow-listed: mmengine's ``HistoryBuffer`` (message hub
   state), numpy arrays, dtypes and scalars (numpy 1 and 2 module paths), and ``builtins.getattr``
   restricted to what ``HistoryBuffer.__getstate__`` pickles (its statistics methods).
2. **numpy 2.4 removed ``np.in1d``**, which mmpretrain's retrieval metrics call. Their module gets a
   numpy view that adds ``in1d`` (as ``np.isin`` on the flattened input); numpy itself is untouched.
3. **numpy 2 made ``np.uint8(-25.5)`` an OverflowError**, which mmcv 2.1's ``adjust_hue`` (the MoCo v2
   ``ColorJitter(hue=...)``) hits for every negative hue shift. Its shift is recompiled as
   ``np.uint8(int(hue_factor * 255) % 256)``: the value numpy 1 produced (C cast, then wrap-around).
4. **numpy >= 1.24 removed ``np.float``**, which the ``lvis`` package (0.5.3, the LVIS API behind
   MMDetection's ``LVISMetric``) calls in ``LVISEval.accumulate``. Its module gets a numpy view that
   adds ``float`` (the builtin, what the alias was). Applied by ``import mmlt.det`` (not by
   ``import mmlt``, which does not import mmdet or lvis); nothing happens without lvis.
5. **mmcv 2.1's CPU ``nms`` and ``RoIAlign`` kernels take float32 only**, so an mmdet detector under
   bf16 autocast (``tools/det/train.py --amp bf16``) stops in the RPN's NMS with "expected scalar
   type Float but found BFloat16" (RoIAlign would be next). NMS gets
   ``torch.amp.custom_fwd(cast_inputs=torch.float32)``, as PyTorch advises for custom functions
   (under autocast its inputs are cast to float32; it returns indices only). RoIAlign, given
   bfloat16 (or half on CPU) features, runs its forward and backward kernels in float32 and returns
   the features' dtype, which mmdet's RoI extractor writes into. Float32 inputs take the original
   path. Applied by ``import mmlt.det``.
"""
import importlib
import inspect
import textwrap
import types

import numpy as np
import torch

_APPLIED = False


def _history_buffer_getattr(obj, name: str):
    """``getattr`` as unpickled from checkpoints, limited to HistoryBuffer statistics methods.

    ``HistoryBuffer.__getstate__`` stores its statistics functions, which pickle as
    ``getattr(HistoryBuffer, 'mean')``. Nothing else in an mmengine checkpoint needs ``getattr``.
    """
    from mmengine.logging import HistoryBuffer
    if obj is HistoryBuffer and isinstance(name, str) and callable(
            getattr(HistoryBuffer, name, None)) and not name.startswith('_'):
        return getattr(obj, name)
    raise RuntimeError(
        f'checkpoint asks for getattr({obj!r}, {name!r}); mmlt only allows '
        'HistoryBuffer statistics methods here')


def _numpy_safe_globals() -> list:
    """numpy objects in mmengine checkpoints, under both numpy 1 and numpy 2 module paths."""
    try:
        from numpy._core import multiarray  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1
        from numpy.core import multiarray
    safe = [np.ndarray, np.dtype]
    for mod in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        safe.append((multiarray._reconstruct, f'{mod}._reconstruct'))
        safe.append((multiarray.scalar, f'{mod}.scalar'))
    # dtype classes (numpy >= 1.25 pickles ``np.dtype(x)`` through them in some paths)
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        for name in dir(dtypes):
            obj = getattr(dtypes, name)
            if isinstance(obj, type) and issubclass(obj, np.dtype):
                safe.append((obj, f'numpy.dtypes.{name}'))
    return safe


def allow_mmengine_checkpoints() -> None:
    """Allow-list the globals of mmengine checkpoints for ``torch.load(weights_only=True)``."""
    if not hasattr(torch.serialization, 'add_safe_globals'):
        return  # torch < 2.4: weights_only is off by default
    from mmengine.logging import HistoryBuffer
    torch.serialization.add_safe_globals(
        [HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr'),
         (_history_buffer_getattr, '__builtin__.getattr')] + _numpy_safe_globals())


class _NumpyWithIn1d(types.ModuleType):
    """numpy, plus ``in1d`` (removed in numpy 2.4), for modules that still call it."""

    def __init__(self):
        super().__init__('numpy')

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def in1d(ar1, ar2, assume_unique=False, invert=False):
        return np.isin(
            np.ravel(ar1), ar2, assume_unique=assume_unique, invert=invert)


class _NumpyWithFloat(types.ModuleType):
    """numpy, plus the ``float`` alias (removed in numpy 1.24), for modules that still use it."""

    float = float

    def __init__(self):
        super().__init__('numpy')

    def __getattr__(self, name):
        return getattr(np, name)


def patch_lvis_numpy2() -> bool:
    """Give ``lvis.eval`` the ``np.float`` it calls; returns whether lvis is installed."""
    try:
        from lvis import eval as lvis_eval
    except ImportError:
        return False
    if not hasattr(np, 'float') and not isinstance(lvis_eval.np, _NumpyWithFloat):
        lvis_eval.np = _NumpyWithFloat()
    return True


def _float32_kernel(dtype: torch.dtype, device: torch.device) -> bool:
    """Whether mmcv 2.1's kernels lack ``dtype`` on ``device`` (CPU: float32 / 64 only; CUDA:
    half too, no bfloat16)."""
    return dtype == torch.bfloat16 or (dtype == torch.float16 and device.type == 'cpu')


def _roi_align_any_dtype(forward, backward):
    """RoIAlign forward / backward that run mmcv's kernels in float32 and give back the
    feature map's dtype (mmdet's RoI extractors write the result into a tensor of that dtype)."""

    def roi_align_forward(ctx, input, rois, *args, **kwargs):
        ctx.mmlt_dtype = input.dtype if _float32_kernel(input.dtype, input.device) else None
        if ctx.mmlt_dtype is None:
            return forward(ctx, input, rois, *args, **kwargs)
        with torch.autocast(input.device.type, enabled=False):
            output = forward(ctx, input.float(), rois.float(), *args, **kwargs)
        return output.to(ctx.mmlt_dtype)

    def roi_align_backward(ctx, grad_output):
        if getattr(ctx, 'mmlt_dtype', None) is not None:
            grad_output = grad_output.float()  # autograd casts the gradient back to the input's
        return backward(ctx, grad_output)

    return roi_align_forward, roi_align_backward


def patch_mmcv_ops_autocast() -> None:
    """Run mmcv's ``nms`` and ``RoIAlign`` in float32 when given bfloat16 (or half on CPU)."""
    # the modules, not the functions ``mmcv.ops`` re-exports under the same names
    nms_module = importlib.import_module('mmcv.ops.nms')
    roi_align_module = importlib.import_module('mmcv.ops.roi_align')
    nms_op = nms_module.NMSop
    if not getattr(nms_op.forward, '_mmlt_patched', False):
        # only indices come out; mmcv's nms() gathers the boxes in their own dtype
        forward = nms_op.forward
        for device_type in ('cpu', 'cuda'):
            forward = torch.amp.custom_fwd(forward, device_type=device_type,
                                           cast_inputs=torch.float32)
        forward._mmlt_patched = True
        nms_op.forward = staticmethod(forward)
    roi_align = roi_align_module.RoIAlignFunction
    if not getattr(roi_align.forward, '_mmlt_patched', False):
        forward, backward = _roi_align_any_dtype(roi_align.forward, roi_align.backward)
        forward._mmlt_patched = True
        roi_align.forward, roi_align.backward = staticmethod(forward), staticmethod(backward)


def patch_numpy2() -> None:
    """Give mmpretrain's retrieval metrics the ``np.in1d`` they call."""
    if hasattr(np, 'in1d'):
        return
    from mmpretrain.evaluation.metrics import retrieval
    if not isinstance(retrieval.np, _NumpyWithIn1d):
        retrieval.np = _NumpyWithIn1d()


_HUE_SHIFT = 'np.uint8(hue_factor * 255)'


def patch_mmcv_adjust_hue() -> None:
    """Make mmcv's ``adjust_hue`` wrap negative hue shifts as under numpy 1."""
    import mmcv
    from mmcv.image import photometric
    func = photometric.adjust_hue
    if getattr(func, '_mmlt_patched', False):
        return
    source = textwrap.dedent(inspect.getsource(func))
    if _HUE_SHIFT not in source:
        return  # fixed upstream
    namespace = {}
    exec(compile(source.replace(_HUE_SHIFT, 'np.uint8(int(hue_factor * 255) % 256)'),
                 inspect.getsourcefile(func), 'exec'), photometric.__dict__, namespace)
    fixed = namespace['adjust_hue']
    fixed._mmlt_patched = True
    fixed.__wrapped__ = func
    for module in (photometric, mmcv.image, mmcv):
        module.adjust_hue = fixed


def apply() -> None:
    """Apply every fix once."""
    global _APPLIED
    if _APPLIED:
        return
    allow_mmengine_checkpoints()
    patch_numpy2()
    patch_mmcv_adjust_hue()
    _APPLIED = True


apply()
