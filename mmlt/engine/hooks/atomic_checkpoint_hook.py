"""mmengine's CheckpointHook, made safe against a kill at any moment."""
import os
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import CheckpointHook
from mmpretrain.registry import HOOKS

PARTIAL_SUFFIX = '.partial'


def atomic_write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old or the new content, whole."""
    tmp = path + PARTIAL_SUFFIX
    with open(tmp, 'w') as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """:class:`mmengine.hooks.CheckpointHook` whose checkpoints survive a kill at any moment.

    In mmengine 0.10.7 a process killed while it saves can leave (a) a truncated
    ``epoch_N.pth`` under its final name, (b) a truncated or empty ``last_checkpoint``, from
    which ``--resume`` then finds nothing and silently starts from scratch, and (c) with
    ``max_keep_ckpts`` no good checkpoint at all: the oldest kept one is deleted *before* the
    new one is written (with ``max_keep_ckpts=1``, the only one).

    Here, on a local file system, the checkpoint is written to ``epoch_N.pth.partial`` and
    renamed into place (``os.replace``, atomic), ``last_checkpoint`` is replaced the same way
    after it, and the checkpoint that ``max_keep_ckpts`` drops is deleted only then. Whenever
    the process dies, ``last_checkpoint`` names a complete checkpoint that exists. Other storage
    backends (object stores write whole objects) keep mmengine's behaviour. Arguments are
    those of :class:`~mmengine.hooks.CheckpointHook`.
    """

    def _save_checkpoint_with_step(self, runner, step, meta):
        if not isinstance(self.file_backend, LocalBackend):
            return super()._save_checkpoint_with_step(runner, step, meta)
        drop = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                drop = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            # saved in the checkpoint's message hub: a resumed run keeps pruning the same files
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            filename + PARTIAL_SUFFIX,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        os.replace(self.last_ckpt + PARTIAL_SUFFIX, self.last_ckpt)
        atomic_write_text(osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        if drop is not None:
            old = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(drop))
            if self.file_backend.isfile(old):
                self.file_backend.remove(old)
            elif self.file_backend.isdir(old):
                self.file_backend.rmtree(old)
