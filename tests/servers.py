"""Running the app as a real server in a subprocess, for the browser tests and the load test."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from app.config import PROJECT_ROOT


def free_port() -> int:
    """A port on 127.0.0.1 that nothing is listening on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen, grace: float = 10) -> None:
    """Ask the server to stop, give it `grace` seconds to finish what it is doing, then make it stop."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def start_gunicorn(target: str, port: int, env: dict, log_path: Path, workers: int = 2) -> subprocess.Popen:
    """gunicorn serving `target` ("module:factory()") on 127.0.0.1, with `env` added to this process's, and its
    output in `log_path`. Stop it with stop_gunicorn."""
    log = open(log_path, "wb")  # noqa: SIM115 - kept open for the server's lifetime, closed with it
    command = [
        sys.executable, "-m", "gunicorn",
        "--workers", str(workers),
        "--bind", f"127.0.0.1:{port}",
        "--error-logfile", "-",
        target,
    ]  # fmt: skip
    server = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
    )
    server.log_file = log
    server.log_path = log_path
    return server


def wait_for_gunicorn(server: subprocess.Popen, url: str, limit: float = 60) -> None:
    """Wait until `url` answers 200; say why, with the end of gunicorn's log, if it stops or does not answer."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn stopped (exit {server.returncode}):\n{server.log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer {url} within {limit:.0f} s:\n{server.log_path.read_text()[-3000:]}")


def stop_gunicorn(server: subprocess.Popen, grace: float = 10) -> None:
    stop(server, grace)
    server.log_file.close()
