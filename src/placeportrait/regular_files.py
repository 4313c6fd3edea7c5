"""Only regular files are read or replaced.

A FIFO blocks a reader for ever, ``/dev/zero`` never ends, and replacing a character
device, FIFO or symlink with an exported file (``--out /dev/null`` as root) destroys
something that was not the user's data. Every path a user gives is checked here first,
with one line naming it.
"""

from __future__ import annotations

import stat
from pathlib import Path

from placeportrait.errors import InputError

KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
         (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
         (stat.S_ISDIR, "a directory"))


def _kind(mode: int) -> str:
    return next((name for test, name in KINDS if test(mode)), "not a regular file")


def check_input(path: str | Path, what: str = "file") -> Path:
    """``path`` if it is an existing regular file (a symlink to one is fine), else
    ``InputError`` naming it: "no such file", or what it is instead."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError(f"{path}: no such {what}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what}: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise InputError(f"{path}: is {_kind(mode)}, not a regular file; give a {what}")
    return path


def check_output(path: str | Path) -> Path:
    """``path`` if writing it would create or replace a regular file; a symlink or any
    special file there is refused, never replaced."""
    path = Path(path)
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return path
    if stat.S_ISLNK(mode):
        raise InputError(f"{path}: is a symbolic link; placeportrait replaces only regular "
                         "files: give another path")
    if not stat.S_ISREG(mode):
        raise InputError(f"{path}: is {_kind(mode)}; placeportrait replaces only regular "
                         "files: give another path")
    return path
