"""A national-scale data set for measuring: about N PCNs across 42 ICBs, most with submitted returns.

Built with bulk inserts (it is data for measuring, not a journey). The largest ICB has about 120 PCNs and one ICB has
exactly 40, so that a page can be timed for the same ICB with the whole country loaded and with that ICB alone.
Each ICB has one open round of the core questionnaire; about 85% of its PCNs have submitted, the rest are in progress
or not started. Accounts made here cannot sign in (their password hash is not a hash).
"""

import json
import random
from datetime import timedelta

from sqlalchemy import func, insert, select

from ..extensions import db
from ..models import (
    Assessment,
    AssessmentStatus,
    Organisation,
    OrgKind,
    ReturnRound,
    Role,
    RoundPcn,
    Submission,
    SubmissionAnswer,
    SubmissionDomainScore,
    User,
)
from ..models.base import utcnow
from ..questionnaires import registry
from .rounds import DECLARATION, today
from .scoring import AnswerValue, score_assessment

ICB_COUNT = 42
LARGEST = 120
FORTY = 40
CODE_PREFIX = "X"  # ICB codes X01..X42: apart from the Demo ICB's own codes


def icb_sizes(total: int, count: int = ICB_COUNT) -> list[int]:
    """How many PCNs each ICB gets: the first is the largest (about 120 at national scale), the second 40 when
    there are enough, the rest share what is left."""
    if total < count:
        return [1] * total
    # Never so large that another ICB is left with no PCN.
    largest = max(1, min(LARGEST, round(total * LARGEST / 1250), total - (count - 1)))
    sizes = [largest]
    if total - largest >= FORTY + (count - 2):
        sizes.append(FORTY)
    rest = total - sum(sizes)
    left = count - len(sizes)
    sizes += [rest // left + (1 if i < rest % left else 0) for i in range(left)]
    return sizes


def load(total: int, seed: int = 2026, icb_count: int = ICB_COUNT, only_icb: int | None = None) -> str:
    """Add the data set (once: refused if it is there already). `only_icb` builds just that ICB (its index)."""
    if db.session.scalar(select(func.count()).where(Organisation.ods_code == f"{CODE_PREFIX}01")):
        return "The national-scale data set is already loaded."
    rng = random.Random(seed)
    core = registry().core()[0]
    registry().pin(core)
    sizes = icb_sizes(total, icb_count)
    now = utcnow()
    day = today()
    pcn_number = 10000
    pcns_made = submissions_made = 0
    for index, size in enumerate(sizes):
        if only_icb is not None and index != only_icb:
            pcn_number += size
            continue
        code = f"{CODE_PREFIX}{index + 1:02d}"
        icb = Organisation(name=f"Measuring ICB {index + 1:02d}", kind=OrgKind.ICB, ods_code=code)
        db.session.add(icb)
        db.session.flush()
        subs = []
        for s in range(max(1, size // 30)):
            sub = Organisation(
                name=f"Measuring ICB {index + 1:02d} - {index + 1:02d}{'ABCDEFGH'[s]}",
                kind=OrgKind.SUB_ICB,
                ods_code=f"{index + 1:02d}{'ABCDEFGH'[s]}",
                area_id=icb.id,
            )
            db.session.add(sub)
            subs.append(sub)
        lead = User(
            email=f"lead-{code.lower()}@measuring.invalid",
            name=f"Lead {code}",
            password_hash="not a password",
            role=Role.ICB_LEAD,
            organisation=icb,
        )
        db.session.add(lead)
        db.session.flush()
        pcn_rows = [
            {
                "name": f"Measuring PCN {pcn_number + i}",
                "kind": OrgKind.PCN,
                "ods_code": f"U{pcn_number + i:05d}",
                "area_id": icb.id,
                "parent_id": subs[i % len(subs)].id,
            }
            for i in range(size)
        ]
        pcn_number += size
        pcn_ids = list(
            db.session.scalars(insert(Organisation).returning(Organisation.id, sort_by_parameter_order=True), pcn_rows)
        )
        db.session.execute(
            insert(User),
            [
                {
                    "email": f"cd-{pcn_id}@measuring.invalid",
                    "name": f"Clinical director {pcn_id}",
                    "password_hash": "not a password",
                    "role": Role.CLINICAL_DIRECTOR,
                    "organisation_id": pcn_id,
                    "active": True,
                    "created_at": now,
                }
                for pcn_id in pcn_ids
            ],
        )
        cds = dict(
            db.session.execute(select(User.organisation_id, User.id).where(User.organisation_id.in_(pcn_ids))).all()
        )
        round_ = ReturnRound(
            icb_id=icb.id,
            title=f"Readiness return {code}",
            questionnaire_key=core.id,
            questionnaire_hash=core.content_hash,
            opens_on=day - timedelta(days=20),
            closes_on=day + timedelta(days=10),
            created_by_id=lead.id,
        )
        db.session.add(round_)
        db.session.flush()
        db.session.execute(insert(RoundPcn), [{"round_id": round_.id, "pcn_id": p} for p in pcn_ids])
        fates = [rng.random() for _ in pcn_ids]
        started = [p for p, f in zip(pcn_ids, fates, strict=True) if f < 0.95]
        assessment_rows = [
            {
                "pcn_id": p,
                "questionnaire_key": core.id,
                "questionnaire_version": core.version,
                "questionnaire_hash": core.content_hash,
                "status": AssessmentStatus.COMPLETED,
                "started_by_id": cds[p],
                "created_at": now,
                "updated_at": now,
                "round_id": round_.id,
            }
            for p in started
        ]
        # An ICB where no PCN has started (a small data set's one-PCN ICBs) inserts nothing: an INSERT given no rows
        # would try to make one row of defaults.
        assessment_ids = (
            dict(
                zip(
                    started,
                    db.session.scalars(
                        insert(Assessment).returning(Assessment.id, sort_by_parameter_order=True), assessment_rows
                    ),
                    strict=True,
                )
            )
            if assessment_rows
            else {}
        )
        submitted = [p for p, f in zip(pcn_ids, fates, strict=True) if f < 0.85]
        answer_rows, score_rows = [], []
        submission_rows = []
        values_by_pcn = {}
        for p in submitted:
            values = {}
            for question in core.questions_by_id.values():
                top = core.scale.max_level
                level = min(top, rng.choice((0, 1, 1, 2, 2, 3, 4)))
                values[question.id] = AnswerValue(level, min(top, level + rng.choice((0, 1, 1, 2))))
            values_by_pcn[p] = values
            result = score_assessment(core, values)
            submission_rows.append(
                {
                    "round_id": round_.id,
                    "pcn_id": p,
                    "assessment_id": assessment_ids[p],
                    "submitted_by_id": cds[p],
                    "submitted_at": now - timedelta(days=rng.randint(0, 15)),
                    "declaration": DECLARATION,
                    "questionnaire_hash": core.content_hash,
                    "overall_now": result.now,
                    "overall_target": result.target,
                    "plan_json": json.dumps([]),
                    "pdf_rendered_at": None,
                }
            )
        submission_ids = (
            list(
                db.session.scalars(
                    insert(Submission).returning(Submission.id, sort_by_parameter_order=True), submission_rows
                )
            )
            if submission_rows
            else []
        )
        for p, submission_id in zip(submitted, submission_ids, strict=True):
            values = values_by_pcn[p]
            result = score_assessment(core, values)
            position = 0
            for d in result.domains:
                score_rows.append(
                    {
                        "submission_id": submission_id,
                        "section": "core",
                        "domain_id": d.domain.id,
                        "position": position,
                        "now": d.now,
                        "target": d.target,
                    }
                )
                for q in d.questions:
                    answer_rows.append(
                        {
                            "submission_id": submission_id,
                            "section": "core",
                            "domain_id": d.domain.id,
                            "question_id": q.question.id,
                            "position": position,
                            "current": q.answer.current,
                            "current_unsure": False,
                            "target": q.answer.target,
                            "target_unsure": False,
                            "note": "",
                        }
                    )
                    position += 1
                position += 1
        if score_rows:
            db.session.execute(insert(SubmissionDomainScore), score_rows)
            db.session.execute(insert(SubmissionAnswer), answer_rows)
        db.session.commit()
        pcns_made += size
        submissions_made += len(submitted)
    return (
        f"National-scale data set loaded: {pcns_made} PCNs across {len(sizes) if only_icb is None else 1} ICB(s), "
        f"{submissions_made} submitted returns. The largest ICB is {CODE_PREFIX}01 with {sizes[0]} PCNs."
    )
