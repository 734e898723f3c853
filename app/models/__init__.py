from .api import ApiToken
from .assessment import (
    Answer,
    Assessment,
    AssessmentStatus,
    DomainProgress,
    DomainStatus,
    PendingInput,
    QuestionnaireContent,
    QuestionnaireOffer,
)
from .audit import AppendOnly, AuditEvent
from .base import Base
from .imports import RosterUpload
from .jobs import BackgroundJob, JobStatus
from .organisation import Organisation, OrgKind, lmc_coverage
from .people import Invitation
from .plan import ACTION_STATUS_LABELS, ActionOrigin, ActionStatus, PlanAction
from .report import StoredReport
from .rounds import (
    RETURN_STATUS_LABELS,
    ReturnRound,
    ReturnStatus,
    RoundPcn,
    Submission,
    SubmissionAnswer,
    SubmissionDomainScore,
)
from .session import UserSession
from .user import ROLE_LABELS, Role, User
from .versions import DataVersion

__all__ = [
    "ApiToken",
    "AppendOnly",
    "AuditEvent",
    "BackgroundJob",
    "DataVersion",
    "Invitation",
    "JobStatus",
    "RETURN_STATUS_LABELS",
    "ReturnRound",
    "RosterUpload",
    "ReturnStatus",
    "RoundPcn",
    "Submission",
    "SubmissionAnswer",
    "SubmissionDomainScore",
    "StoredReport",
    "lmc_coverage",
    "ACTION_STATUS_LABELS",
    "ActionOrigin",
    "ActionStatus",
    "PlanAction",
    "Answer",
    "Assessment",
    "AssessmentStatus",
    "Base",
    "DomainProgress",
    "DomainStatus",
    "OrgKind",
    "Organisation",
    "PendingInput",
    "QuestionnaireContent",
    "QuestionnaireOffer",
    "ROLE_LABELS",
    "Role",
    "User",
    "UserSession",
]
