"""The job queue's worker process: `huey_consumer app.worker.huey -w 4 -k thread`.

Importing this module creates the app once for the whole process, with the same settings as the web app (APP_ENV,
SECRET_KEY, DATABASE_URL, JOBS_REDIS_URL or REDIS_URL...), except that jobs are never run in immediate mode here:
a worker takes them from the queue. Each job runs in an app context of this app (app/jobs/__init__.py).
"""

import logging

from . import create_app

app = create_app({"JOBS_IMMEDIATE": False})
huey = app.extensions["jobs"].huey

# huey_consumer sets up logging for its own "huey" logger only: what jobs log (including the traceback of a job that
# failed unexpectedly) goes to the same place, standard error.
_jobs_logger = logging.getLogger("app.jobs")
if not _jobs_logger.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("[%(asctime)s] %(levelname)s:%(name)s:%(threadName)s:%(message)s"))
    _jobs_logger.addHandler(_handler)
    _jobs_logger.setLevel(logging.INFO)
