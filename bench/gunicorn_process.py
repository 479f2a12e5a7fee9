"""The portal under gunicorn with gunicorn.conf.py, on a free loopback port, for bench/load.py;
its error lines (with their error ids and exceptions) printed when it stops."""

import contextlib
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def gunicorn(env: dict, tmp: Path, *args: str):
    """gunicorn -c gunicorn.conf.py careportal.wsgi on a free loopback port; yields its URL."""
    log = open(tmp / f"gunicorn-{time.monotonic_ns()}.log", "w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", *args, "careportal.wsgi"],
        cwd=ROOT,
        env={**env, "GUNICORN_BIND": "127.0.0.1:0"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield _wait_until_serving(proc, Path(log.name))
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()
        for line in _errors(Path(log.name).read_text()):  # what a 5xx was, before tmp goes
            print("   ", line)


def _errors(log: str, most: int = 3) -> list[str]:
    """The portal's error lines (each with its error id) and the end of their tracebacks."""
    lines, shown = log.splitlines(), []
    starts = [i for i, line in enumerate(lines) if "ERROR careportal.errors" in line][:most]
    for i in starts:
        end = next(
            (j for j in range(i + 1, len(lines)) if not lines[j].startswith((" ", "Tr"))),
            len(lines),
        )
        shown += [lines[i], *lines[max(i + 1, end - 2) : end + 1]]  # and the exception itself
    return shown


def _wait_until_serving(proc, log: Path) -> str:
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        found = re.search(r"Listening at: (\S+)", log.read_text())
        if found:
            with contextlib.suppress(requests.RequestException):
                probe = requests.get(
                    found[1] + "/admin/login/",
                    headers={"X-Forwarded-Proto": "https"},  # as the TLS proxy says
                    allow_redirects=False,
                    timeout=5,
                )
                if probe.status_code < 500:
                    return found[1]
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not start:\n{log.read_text()[-2000:]}")
