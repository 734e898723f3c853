"""How a PCN compares, worked out once per change in the returns rather than on every results page.

`benchmarks.peer_comparison` reads every PCN's latest submitted return in the ICB and in England: about 8,000
domain scores at national scale, 60 ms or more, and the same for every PCN of an ICB that looks at its results. The
figures change only when a return is submitted, so they are kept per questionnaire content and ICB, and used again
while the returns are as they were: the same number of submissions, the same newest id and the same newest
submission time (one aggregate over the submission table, done by the database; a return deleted and another
added still changes the time).
A PCN moving ICB changes a group without a submission, so kept figures are also worked out afresh after
`KEEP_FOR`. Kept per process, in memory; a few entries per ICB at most.
"""

import threading
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..models import Organisation, Submission
from ..questionnaires import Questionnaire
from . import benchmarks

KEEP_FOR = timedelta(minutes=5)
MAX_KEPT = 1024

_lock = threading.Lock()


def peer_comparison(questionnaire: Questionnaire, pcn: Organisation) -> list[benchmarks.PeerGroup]:
    """`benchmarks.peer_comparison`, the same figures, from the store while no return has been submitted since."""
    newest = tuple(
        db.session.execute(select(func.count(), func.max(Submission.id), func.max(Submission.submitted_at))).one()
    )
    area_name = pcn.area.name if pcn.area is not None else None
    key = (questionnaire.content_hash, pcn.area_id, area_name)
    store = current_app.extensions.setdefault("peer_figures", {})
    now = time.monotonic()
    kept = store.get(key)
    if kept is not None and kept[0] == newest and now - kept[1] < KEEP_FOR.total_seconds():
        return list(kept[2])
    groups = benchmarks.peer_comparison(questionnaire, pcn)
    with _lock:
        if len(store) >= MAX_KEPT:
            store.clear()
        store[key] = (newest, now, groups)
    return list(groups)
