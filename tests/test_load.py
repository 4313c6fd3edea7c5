"""A short load test in CI: 20 simulated users against the app under gunicorn on loopback,
on a freshly built demo store, with HTTP Basic auth on (``bench/load.py``).

It checks that nothing fails under concurrency and that every kind of request a browser
sends was made. It prints the p95 of each kind but asserts nothing about time.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def load_module():
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module("bench.load")


def test_twenty_users_under_gunicorn_make_no_errors():
    load = load_module()
    password = "load-test-Secret-7f3a"
    result = load.run_load(users=20, seconds=8, warmup=0, auth=True,
                           credentials=("loadtest", password), keep_log=True)
    print()
    print(load.markdown(result))
    kinds = result["kinds"]
    assert result["overall"]["errors"] == 0, result["first_errors"]
    assert result["overall"]["requests"] > 0 and result["sessions"] > 0
    missing = [kind for kind in load.KINDS if kinds[kind]["requests"] == 0]
    assert missing == [], f"request kinds never made: {missing}"
    assert set(kinds) == set(load.KINDS)  # no "client" errors or unknown kinds either
    assert result["server"]["auth"] == "HTTP Basic"
    # the secret is in no log line and not in the result
    log = result.pop("server_log")
    assert "Booting worker" in log
    assert password not in log and password not in repr(result)
    assert '"POST /_dash-update-component' in log  # the access log was on
