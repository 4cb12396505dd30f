"""Open every image of a dataset once, before training, and list the bad ones."""
import os
from dataclasses import dataclass
from typing import List, Optional

from mmengine.logging import print_log
from torch.utils.data import DataLoader, Dataset


def check_image(path: str) -> Optional[str]:
    """Why ``path`` cannot be trained on, or None when it decodes completely.

    Reasons: ``missing``, ``empty file``, ``not readable`` (permissions, a
    directory), ``truncated`` and ``cannot decode``. The image is decoded
    completely (PIL's ``load``): a header check (``Image.verify``) does not
    see a file cut off in the middle of its pixel data.
    """
    from PIL import Image, UnidentifiedImageError
    if not os.path.exists(path):
        return 'missing'
    if not os.path.isfile(path):
        return 'not readable (not a regular file)'
    if os.path.getsize(path) == 0:
        return 'empty file'
    try:
        with Image.open(path) as img:
            img.load()
    except PermissionError as e:
        return f'not readable ({e.strerror})'
    except UnidentifiedImageError:
        return 'cannot decode (not an image format PIL knows)'
    except OSError as e:
        if 'truncated' in str(e).lower():
            return f'truncated ({e})'
        return f'cannot decode ({e})'
    except Exception as e:  # a decoder bug is still a bad file for training
        return f'cannot decode ({type(e).__name__}: {e})'
    return None


@dataclass
class BadImage:
    """One image that cannot be trained on.

    Args:
        index (int): Its index in the dataset.
        path (str): The image file.
        reason (str): Why (see :func:`check_image`).
        where (str): Where the dataset lists it (``list_file:line`` or
            ``file: annotation i`` for list datasets), else ''.
    """
    index: int
    path: str
    reason: str
    where: str = ''

    def __str__(self) -> str:
        return f'{self.where + ": " if self.where else ""}{self.path}: {self.reason}'


def list_location(info: dict, ann_file: str = '') -> str:
    """``ann_file:line`` / ``ann_file: annotation i`` of an entry of a list dataset."""
    if 'ann_line' in info:
        return f"{ann_file}:{info['ann_line']}"
    if 'ann_index' in info:
        return f"{ann_file}: annotation {info['ann_index']}"
    return ''


class _Checks(Dataset):
    """Item i: ``(i, reason or None)`` for the i-th entry."""

    def __init__(self, entries) -> None:
        self.entries = entries

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, i: int):
        path = self.entries[i].get('img_path')
        return i, (None if path is None else check_image(path))


class _DatasetEntries:
    """``dataset.get_data_info`` as a sequence."""

    def __init__(self, dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> dict:
        return self.dataset.get_data_info(i)


def verify_images(dataset, num_workers: int = 0, batch_size: int = 64,
                  progress: bool = True, ann_file: Optional[str] = None) -> List[BadImage]:
    """Open every image once, in ``num_workers`` loader workers.

    Args:
        dataset: A built dataset (its ``get_data_info(i)``) or a sequence of
            data-list entries. Entries without ``img_path`` (images held in
            memory) are skipped.
        num_workers (int): DataLoader worker processes. Defaults to 0.
        batch_size (int): Images per worker task. Defaults to 64.
        progress (bool): Show a progress bar. Defaults to True.
        ann_file (str, optional): The list file the entries' ``ann_line`` /
            ``ann_index`` refer to. Defaults to the dataset's ``ann_file``.

    Returns:
        list[BadImage]: Every bad image, in order (empty if none).
    """
    if ann_file is None:
        ann_file = getattr(dataset, 'ann_file', '') or ''
    entries = _DatasetEntries(dataset) if hasattr(dataset, 'get_data_info') else dataset
    loader = DataLoader(_Checks(entries), batch_size=batch_size, num_workers=num_workers,
                        collate_fn=list, shuffle=False)
    bar = None
    if progress:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(len(entries))
    bad = []
    for batch in loader:
        for i, reason in batch:
            if reason is not None:
                info = entries[i]
                bad.append(BadImage(i, info['img_path'], reason, list_location(info, ann_file)))
        if bar is not None:
            bar.update(len(batch))
    if bar is not None:
        print()
    return bad


def raise_if_bad(bad: List[BadImage], name: str, total: int, shown: int = 50) -> None:
    """Raise one error listing every bad image (the first ``shown`` of them)."""
    if not bad:
        print_log(f'{name}: all {total} images open and decode', logger='current')
        return
    lines = [str(b) for b in bad[:shown]]
    more = f'\n  ... and {len(bad) - shown} more' if len(bad) > shown else ''
    raise ValueError(f'{name}: {len(bad)} of {total} images cannot be trained on:\n  '
                     + '\n  '.join(lines) + more)
