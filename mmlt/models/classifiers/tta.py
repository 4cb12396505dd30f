"""Test-time augmentation that averages class scores and labels by the average."""
from mmpretrain.models.tta import AverageClsScoreTTA
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample


@MODELS.register_module()
class AverageScoreTTA(AverageClsScoreTTA):
    """MMPretrain's ``AverageClsScoreTTA`` whose ``pred_label`` is the argmax of the average.

    MMPretrain 1.2's ``AverageClsScoreTTA`` averages ``pred_score`` over the views but keeps the
    ``pred_label`` of the first view, so files written with ``tools/test.py --out`` and images
    painted with ``--show-dir`` can name another class than the score they carry (metrics that
    read ``pred_score``, such as ``LongTailAccuracy``, are not affected). ``tools/test.py --tta``
    uses this class unless the config has its own ``tta_model``.
    """

    def _merge_single_sample(self, data_samples) -> DataSample:
        merged = super()._merge_single_sample(data_samples)
        merged.set_pred_label(merged.pred_score.argmax(dim=-1, keepdim=True))
        return merged
