"""Downloading sources once, with a local cache.

Each download is kept under ``$PLACEPORTRAIT_CACHE/sources/`` beside a JSON record of
its URL, SHA-256, size, ETag, Last-Modified and retrieval time. A later fetch asks the
server whether the file changed (``If-None-Match`` / ``If-Modified-Since``); offline,
the cached copy is used. A failed download with no cached copy names the URL and the
reason. ``--input ID=PATH`` bypasses all of this with a local file.

A download has an overall deadline and a size cap as well as a per-read timeout, so a
server that trickles a byte every few seconds or sends an endless body cannot hang a
run or fill the disk: ``PLACEPORTRAIT_DOWNLOAD_DEADLINE`` (seconds, default 1800) and
``PLACEPORTRAIT_DOWNLOAD_MAX_BYTES`` (default 4 GiB) change them. A download that fails
for any reason leaves nothing in the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlparse

from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

from placeportrait import __version__, config
from placeportrait.errors import FetchError

CHUNK = 1 << 16
TIMEOUT_S = 60  # for the connection and for each read
DEADLINE_ENV, DEADLINE_S = "PLACEPORTRAIT_DOWNLOAD_DEADLINE", 1800.0
MAX_BYTES_ENV, MAX_BYTES = "PLACEPORTRAIT_DOWNLOAD_MAX_BYTES", 4 << 30


def _limit(env: str, default: float) -> float:
    raw = os.environ.get(env)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise FetchError(f"{env}={raw!r}: give a positive number")
    return value


def limits() -> tuple[float, int]:
    """(deadline in seconds, size cap in bytes) for one download, from the environment."""
    return _limit(DEADLINE_ENV, DEADLINE_S), int(_limit(MAX_BYTES_ENV, MAX_BYTES))


@dataclass(frozen=True)
class Source:
    """A local file standing for a source, and where it came from."""

    path: Path
    sha256: str
    origin: str  # the URL, or the local path given with --input
    retrieved_at: str
    etag: str | None = None
    last_modified: str | None = None
    from_cache: bool = False


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def local(path: str | Path) -> Source:
    """A local file given by the user (``--input``)."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise FetchError(f"{p}: no such file")
    stamp = datetime.fromtimestamp(p.stat().st_mtime, timezone.utc).isoformat(timespec="seconds")
    return Source(p.resolve(), sha256_of(p), str(p), stamp)


def _cache_paths(url: str, cache: Path) -> tuple[Path, Path]:
    key = hashlib.sha256(url.encode()).hexdigest()[:16]
    name = Path(urlparse(url).path).name or "download"
    folder = cache / "sources"
    return folder / f"{key}-{name}", folder / f"{key}-{name}.json"


def fetch(url: str, *, cache: Path | None = None, refresh: bool = True,
          expected_sha256: str | None = None, show_progress: bool = True) -> Source:
    """Return a local copy of ``url``, downloading it if it is new or has changed.

    Parameters
    ----------
    url : the source's published address.
    cache : the cache folder (default ``config.cache_dir()``).
    refresh : ask the server whether a cached copy is stale; ``False`` uses the
        cache as it is.
    expected_sha256 : if given, a download with another checksum is refused.
    """
    if not url.startswith(("http://", "https://")):
        return local(url)
    cache = cache or config.cache_dir()
    data_path, record_path = _cache_paths(url, cache)
    record = json.loads(record_path.read_text()) if record_path.exists() and data_path.exists() else None
    if record and not refresh:
        return Source(**{**record, "path": data_path, "from_cache": True})

    deadline, max_bytes = limits()
    deadline += time.monotonic()
    request = urllib.request.Request(url, headers={"User-Agent": f"placeportrait/{__version__}"})
    if record and record.get("etag"):
        request.add_header("If-None-Match", record["etag"])
    if record and record.get("last_modified"):
        request.add_header("If-Modified-Since", record["last_modified"])
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        if exc.code == 304 and record:
            return Source(**{**record, "path": data_path, "from_cache": True})
        return _fallback(url, record, data_path, f"HTTP {exc.code} {exc.reason}")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return _fallback(url, record, data_path, str(reason))

    data_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = data_path.with_name(data_path.name + f".{os.getpid()}.part")
    try:
        with response:
            digest = _download(response, url, tmp, deadline, max_bytes, show_progress)
        if expected_sha256 and digest != expected_sha256:
            raise FetchError(f"cannot download {url}: checksum {digest} is not the expected {expected_sha256}")
        tmp.replace(data_path)
    except (OSError, urllib.error.URLError) as exc:
        raise FetchError(f"cannot download {url}: {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    source = Source(
        path=data_path, sha256=digest, origin=url,
        retrieved_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        etag=response.headers.get("ETag"), last_modified=response.headers.get("Last-Modified"),
    )
    record_path.write_text(json.dumps({**asdict(source), "path": str(data_path)}, indent=2))
    return source


def _download(response, url: str, tmp: Path, deadline: float, max_bytes: int,
              show_progress: bool) -> str:
    """Stream ``response`` into ``tmp`` within the deadline and size cap; its SHA-256.

    ``read1`` returns whatever has arrived, so the deadline is checked at least once per
    read timeout however slowly the server sends.
    """
    total = int(response.headers.get("Content-Length") or 0) or None
    if total is not None and total > max_bytes:
        raise FetchError(f"cannot download {url}: {total:,} bytes is over the "
                         f"{max_bytes:,}-byte cap ({MAX_BYTES_ENV})")
    h, size = hashlib.sha256(), 0
    with open(tmp, "wb") as out, Progress(
            "[progress.description]{task.description}", BarColumn(), DownloadColumn(),
            TransferSpeedColumn(), transient=True, disable=not show_progress) as progress:
        task = progress.add_task(f"downloading {Path(urlparse(url).path).name}", total=total)
        while block := response.read1(CHUNK):
            size += len(block)
            if size > max_bytes:
                raise FetchError(f"cannot download {url}: more than {max_bytes:,} bytes, "
                                 f"the cap ({MAX_BYTES_ENV}); nothing was kept")
            if time.monotonic() > deadline:
                raise FetchError(f"cannot download {url}: not finished within the "
                                 f"deadline ({DEADLINE_ENV}); nothing was kept")
            out.write(block)
            h.update(block)
            progress.advance(task, len(block))
    if total is not None and size != total:
        raise FetchError(f"cannot download {url}: truncated ({size} of {total} bytes)")
    return h.hexdigest()


def _fallback(url: str, record: dict | None, data_path: Path, reason: str) -> Source:
    """Offline or failing server: the cached copy if there is one, else a clear error."""
    if record:
        return Source(**{**record, "path": data_path, "from_cache": True})
    raise FetchError(f"cannot download {url}: {reason} (no cached copy; use --input to give a local file)")
