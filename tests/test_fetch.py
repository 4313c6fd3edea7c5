"""The source fetcher against a real HTTP server on loopback."""

import hashlib
import http.server
import threading
from functools import partial

import pytest

from placeportrait import fetch
from placeportrait.errors import FetchError


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    (root / "data.csv").write_text("code,value\nE05000001,1\n")
    hits = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def end_headers(self):
            self.send_header("ETag", '"v1"')
            super().end_headers()

        def do_GET(self):
            hits.append(self.headers.get("If-None-Match"))
            if self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.end_headers()
                return
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", hits, httpd
    httpd.shutdown()


def test_download_is_cached_with_checksum_and_etag(server, tmp_path):
    base, hits, _ = server
    first = fetch.fetch(f"{base}/data.csv", cache=tmp_path / "cache", show_progress=False)
    assert first.path.read_text().startswith("code,value")
    assert first.sha256 == hashlib.sha256(first.path.read_bytes()).hexdigest()
    assert first.etag == '"v1"' and not first.from_cache and first.retrieved_at
    second = fetch.fetch(f"{base}/data.csv", cache=tmp_path / "cache", show_progress=False)
    assert second.from_cache and hits[-1] == '"v1"'  # conditional request, 304


def test_offline_uses_cache_then_fails_clearly(server, tmp_path):
    base, _, httpd = server
    url = f"{base}/data.csv"
    fetch.fetch(url, cache=tmp_path / "cache", show_progress=False)
    httpd.shutdown()
    httpd.server_close()
    assert fetch.fetch(url, cache=tmp_path / "cache", show_progress=False).from_cache
    with pytest.raises(FetchError, match=r"cannot download http://127\.0\.0\.1:\d+/other\.csv: .*--input"):
        fetch.fetch(f"{base}/other.csv", cache=tmp_path / "cache", show_progress=False)


def test_http_error_names_url_and_status(server, tmp_path):
    base, _, _ = server
    with pytest.raises(FetchError, match="missing.csv: HTTP 404"):
        fetch.fetch(f"{base}/missing.csv", cache=tmp_path / "cache", show_progress=False)


def test_checksum_mismatch_is_refused(server, tmp_path):
    base, _, _ = server
    with pytest.raises(FetchError, match="checksum"):
        fetch.fetch(f"{base}/data.csv", cache=tmp_path / "c2", expected_sha256="0" * 64,
                    show_progress=False)
    assert not list((tmp_path / "c2").rglob("*.csv"))


def test_local_input(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a\n")
    assert fetch.local(path).sha256 == hashlib.sha256(b"a\n").hexdigest()
    with pytest.raises(FetchError, match="no such file"):
        fetch.local(tmp_path / "nope.csv")
