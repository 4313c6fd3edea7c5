"""Compressed sources, read as if they were not.

Publishers ship tables as ``.csv.gz`` or as a ``.zip`` holding one file, and analysts pass
them straight to ``--input``. :func:`unpacked` gives every reader the file inside: a gzip
stream (recognised by its magic bytes, whatever its name) or a ``.zip`` archive with
exactly one member is decompressed once into the cache, keyed by the compressed file's
SHA-256, so provenance still names and fingerprints the file the analyst gave. Archives of
several files are left alone: the plugins that read them (Ofcom, Code-Point Open) open them
as archives. Spreadsheets (``.xlsx``, ``.ods``) are zip files too, and are never unpacked.

Decompression stops at the download size cap (``PLACEPORTRAIT_DOWNLOAD_MAX_BYTES``), so a
small file that expands without end fails with one line instead of filling the disk.
"""

from __future__ import annotations

import gzip
import os
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from placeportrait import config, fetch
from placeportrait.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 1 << 20


def unpacked(path: Path, *, cache: Path | None = None) -> Path:
    """The file a reader should open for ``path``: ``path`` itself, or its content.

    Parameters
    ----------
    path : a source file as given.
    cache : where decompressed copies are kept (default ``config.cache_dir()``).

    Returns
    -------
    Path
        ``path`` when it is not compressed (or is an archive of several files); otherwise
        a decompressed copy named after the compressed file's content (``x.csv.gz`` gives
        ``x.csv``; a zip gives its member's file name).
    """
    path = Path(path)
    member = _member(path)
    if member is None:
        return path
    digest = fetch.sha256_of(path)[:16]
    target = (cache or config.cache_dir()) / "unpacked" / digest / member.name
    if not target.is_file():
        _write_once(path, target, member)
    return target


def is_gzip(path: Path) -> bool:
    """True when ``path`` is a regular file holding a gzip stream, whatever its name."""
    path = Path(path)
    if not path.is_file():
        return False
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def name_given(message: str, given: Path, read: Path) -> str:
    """An error message about the unpacked copy, rewritten to name the file the user gave."""
    if given == read:
        return message
    return message.replace(str(read), f"{given} (unpacked)")


def _member(path: Path) -> PurePosixPath | None:
    """What ``path`` compresses: the gzip stream's file name, the zip's one member (its
    path in the archive), or None when it is not compressed."""
    if is_gzip(path):
        name = path.name[:-3] if path.name.lower().endswith(".gz") else path.name + ".unpacked"
        return PurePosixPath(name)
    if path.suffix.lower() != ".zip" or not path.is_file() or not zipfile.is_zipfile(path):
        return None
    members = _files_in(path)
    return PurePosixPath(members[0]) if len(members) == 1 else None


def _files_in(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile as exc:
        raise InputError(f"{path}: not a readable zip archive: {exc}") from None
    # macOS adds resource forks beside the real file; they are not data.
    return [n for n in names if not n.endswith("/") and not n.startswith("__MACOSX/")
            and not PurePosixPath(n).name.startswith("._")]


def _write_once(path: Path, target: Path, member: PurePosixPath) -> None:
    """Decompress into a temporary file beside ``target``, then rename: never half a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    _, max_bytes = fetch.limits()
    try:
        with _open_member(path, member) as source, open(tmp, "wb") as out:
            _copy_capped(source, out, max_bytes, path)
        tmp.replace(target)
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        raise InputError(f"{path}: cannot decompress: {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)


def _open_member(path: Path, member: PurePosixPath):
    """A binary stream of ``member`` (see :func:`_member`): the gzip stream, or the zip's file."""
    if is_gzip(path):
        return gzip.open(path, "rb")
    archive = zipfile.ZipFile(path)
    return _ClosingMember(archive, archive.open(str(member)))


class _ClosingMember:
    """A zip member that closes its archive with it."""

    def __init__(self, archive, member):
        self.archive, self.member = archive, member

    def __enter__(self):
        return self.member

    def __exit__(self, *exc):
        self.member.close()
        self.archive.close()


def _copy_capped(source, out, max_bytes: int, path: Path) -> None:
    written = 0
    for block in iter(lambda: source.read(CHUNK), b""):
        written += len(block)
        if written > max_bytes:
            raise InputError(f"{path}: decompresses to more than {max_bytes:,} bytes "
                             f"(the cap {fetch.MAX_BYTES_ENV})")
        out.write(block)

