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
from .user import ROLE_LABELS, Role, User

__all__ = [
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
]
