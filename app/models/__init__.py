from .assessment import (
    Answer,
    Assessment,
    AssessmentStatus,
    DomainProgress,
    DomainStatus,
    PendingInput,
    QuestionnaireContent,
)
from .base import Base
from .organisation import Organisation, OrgKind
from .plan import ACTION_STATUS_LABELS, ActionOrigin, ActionStatus, PlanAction
from .session import UserSession
from .user import ROLE_LABELS, Role, User

__all__ = [
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
    "ROLE_LABELS",
    "Role",
    "User",
    "UserSession",
]
