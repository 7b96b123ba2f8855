"""Where exports and reports write: a place that cannot take the file is said in one
sentence before the work starts; the file is written beside the target, with its
temporaries, and appears only when complete, so a failure leaves the old file as it was."""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from domain.errors import AccordError

#: The longest file name (in bytes) the usual file systems take.
NAME_MAX = 255


class CannotWrite(AccordError):
    """The output cannot be written there; nothing was written."""


#: What an OSError means for the person choosing where to write, and what they can do.
_WHY = {
    errno.ENOSPC: ("the disk is full", "Free some space and try again."),
    errno.EDQUOT: ("your disk quota is used up", "Free some space and try again."),
    errno.EACCES: ("Accord may not write in that folder", "Choose another folder."),
    errno.EPERM: ("Accord may not write in that folder", "Choose another folder."),
    errno.EROFS: ("that disk is read-only", "Choose another folder."),
    errno.ENOENT: ("the folder does not exist", "Choose an existing folder."),
    errno.ENOTDIR: ("the folder does not exist", "Choose an existing folder."),
    errno.EISDIR: ("it is a folder", "Choose a file name."),
    errno.ENAMETOOLONG: ("the file name is too long", "Choose a shorter name."),
}


def cannot_write(path: Path, error: OSError) -> CannotWrite:
    """``error`` as one sentence that names the file and what to do."""
    why, advice = _WHY.get(error.errno or 0, (error.strerror or str(error), "Try again."))
    return CannotWrite(f"{path} was not written: {why}. {advice}")


def beside(path: Path, suffix: str) -> Path:
    """A hidden file next to ``path`` (the partial file, a temporary): on the same disk, so
    that it can be renamed onto ``path``, and with a name that fits the limit even when
    ``path``'s own name is close to it."""
    name = f".{path.name}{suffix}"
    if len(os.fsencode(name)) > NAME_MAX:
        name = f".{hashlib.sha256(os.fsencode(path.name)).hexdigest()[:16]}{suffix}"
    return path.with_name(name)


def check_output(path: Path) -> None:
    """Refuse, before any work, a place where ``path`` cannot be written: a name too long,
    a missing folder, a folder Accord may not write in."""
    try:
        if len(os.fsencode(path.name)) > NAME_MAX:
            raise OSError(errno.ENAMETOOLONG, "file name too long")
        if not path.parent.is_dir():
            raise OSError(errno.ENOENT, "no such folder")
        if path.is_dir():
            raise OSError(errno.EISDIR, "a folder")
        probe = beside(path, ".partial")
        probe.open("ab").close()
        probe.unlink()
    except OSError as error:
        raise cannot_write(path, error) from None


def write_text(path: Path, text: str) -> None:
    """Write a small UTF-8 file (an ICP, a mapping, territories) whole or not at all."""
    with writing(path) as partial:
        partial.write_text(text, encoding="utf-8")


@contextmanager
def writing(path: Path) -> Iterator[Path]:
    """The partial file to write ``path``'s content to: it replaces ``path`` when the block
    ends, and is removed when the block fails (an OSError, such as a full disk, becomes
    :class:`CannotWrite`); ``path`` stays as it was."""
    check_output(path)
    partial = beside(path, ".partial")
    try:
        yield partial
        os.replace(partial, path)
    except OSError as error:
        raise cannot_write(path, error) from None
    finally:
        partial.unlink(missing_ok=True)
