"""TensorBoard as an optional dashboard beside the local logs."""
import logging

from mmengine.logging import print_log
from mmengine.visualization import TensorboardVisBackend
from mmpretrain.registry import VISBACKENDS


class _NoWriter:
    """Stands in for ``SummaryWriter`` when TensorBoard is missing: every call does nothing."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


@VISBACKENDS.register_module()
class OptionalTensorboardVisBackend(TensorboardVisBackend):
    """MMEngine's :class:`~mmengine.visualization.TensorboardVisBackend` that a missing
    ``tensorboard`` package turns off with a warning instead of stopping the run.

    MMEngine's backend imports ``torch.utils.tensorboard`` when the Runner is built (it writes
    the config as text at once), so a config that lists it cannot even be built without the
    ``tensorboard`` package. This one logs a warning then (``pip install tensorboard``) and
    records nothing; meant beside ``LocalVisBackend`` (``configs/_base_/tensorboard.py``), whose
    files keep everything. With ``tensorboard`` installed it is MMEngine's backend: event files
    in ``<work_dir>/<timestamp>/vis_data/``.

    Args:
        save_dir (str): The folder of the event files (the Runner passes the log folder).
        required (bool): Raise MMEngine's ImportError instead of warning when
            ``tensorboard`` is missing. Defaults to False.
    """

    def __init__(self, save_dir: str, required: bool = False) -> None:
        super().__init__(save_dir)
        self.required = required

    def _init_env(self) -> None:
        """Open the ``SummaryWriter``, or a stand-in that records nothing."""
        if not self.required:
            try:
                import torch.utils.tensorboard  # noqa: F401
            except ImportError:
                print_log(
                    'OptionalTensorboardVisBackend: the tensorboard package is not installed, '
                    'nothing is written for TensorBoard in this run (pip install tensorboard); '
                    'the local logs are kept', logger='current', level=logging.WARNING)
                self._tensorboard = _NoWriter()
                return
        super()._init_env()
