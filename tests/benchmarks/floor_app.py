"""The floor for page_throughput.py: a bare Flask app that answers each path with bytes captured from the real app.

gunicorn serves it exactly as it serves the real app (same workers, same bind), so the ratio of the two request
rates is what the real app's own work costs. The captured pages are read once, from FLOOR_PAGES (a folder holding
index.txt, a line per page: "<file name> <path>"); page N of that list is served at /N (several roles' pages share
a path in the app, such as the home page).
"""

import os
from pathlib import Path

from flask import Flask, Response, abort


def create_floor() -> Flask:
    folder = Path(os.environ["FLOOR_PAGES"])
    pages = [(folder / line.split(" ", 1)[0]).read_bytes() for line in (folder / "index.txt").read_text().splitlines()]
    app = Flask(__name__)

    @app.get("/<int:number>")
    def page(number: int):
        if number >= len(pages):
            abort(404)
        return Response(pages[number], mimetype="text/html")

    return app
