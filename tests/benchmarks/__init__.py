import os
import platform
import sys


def python_line() -> str:
    """Which interpreter ran a benchmark: figures move 15-20% between builds of the same Python (README, "Which
    Python")."""
    return f"Python {platform.python_version()} at {os.path.realpath(sys.executable)}"
