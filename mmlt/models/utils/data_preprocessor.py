"""Preprocessor for multi-view inputs whose views may be stacks of crops."""
from mmpretrain.models.utils import SelfSupDataPreprocessor
from mmpretrain.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class PatchViewsDataPreprocessor(SelfSupDataPreprocessor):
    """:class:`SelfSupDataPreprocessor` that also accepts stacks of crops.

    With PBSD (see :class:`mmlt.datasets.transforms.PBSDMultiView`) each
    sample's inputs are ``[query (3, H, W), key (3, H, W),
    crops (L, 3, p, p)]`` and default collate gives ``[(B, 3, H, W), (B, 3, H, W),
    (B, L, 3, p, p)]``. mmpretrain's preprocessor swaps channels along dim 1,
    which is ``L`` for the crops; this one swaps along the channel dim
    (``-3``) of every view, converts to float, normalises, and flattens a
    5-D view to ``(B * L, 3, p, p)`` (row ``b * L + j`` = crop ``j`` of
    sample ``b``). 4-D views pass through exactly as in the parent class.

    Args: see :class:`mmpretrain.models.utils.SelfSupDataPreprocessor`.
    """

    def forward(self, data: dict, training: bool = False) -> dict:
        """Cast, convert, normalise and flatten all views.

        Args:
            data (dict): ``inputs`` and ``data_samples`` from default collate.
            training (bool): Unused.

        Returns:
            dict: ``inputs`` (tensor or list of tensors) and ``data_samples``.
        """
        if not isinstance(data, dict):
            raise TypeError('PatchViewsDataPreprocessor: use default_collate '
                            f'in the dataloader (got {type(data)})')
        data = self.cast_data(data)
        inputs = data['inputs']
        if isinstance(inputs, (list, tuple)):
            inputs = [self._process(view) for view in inputs]
        else:
            inputs = self._process(inputs)
        return {'inputs': inputs, 'data_samples': data.get('data_samples')}

    def _process(self, view: Tensor) -> Tensor:
        """Convert one view (B, 3, H, W) or (B, L, 3, p, p) to normalised
        float (B, 3, H, W) or (B * L, 3, p, p)."""
        if view.dim() == 5:
            view = view.flatten(0, 1)
        elif view.dim() != 4:
            raise ValueError('PatchViewsDataPreprocessor: each view must be '
                             '(B, 3, H, W) or (B, L, 3, H, W), got '
                             f'{tuple(view.shape)}')
        if self._channel_conversion:
            view = view[:, [2, 1, 0], ...]
        view = view.float()
        if self._enable_normalize:
            view = (view - self.mean) / self.std
        return view
