"""Running the app as a real server in a subprocess, for the browser tests and the load test."""

import socket
import subprocess


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
