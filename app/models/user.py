from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .base import Base, utcnow
from .organisation import Organisation


class Role(StrEnum):
    CLINICAL_DIRECTOR = "clinical_director"
    PCN_MEMBER = "pcn_member"
    ICB_LEAD = "icb_lead"
    LMC_OFFICER = "lmc_officer"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.CLINICAL_DIRECTOR: "Clinical director",
    Role.PCN_MEMBER: "PCN team member",
    Role.ICB_LEAD: "ICB primary care lead",
    Role.LMC_OFFICER: "LMC officer",
    Role.ADMIN: "Administrator",
}


# scrypt with N = 2^16 (64 MiB), r = 8, p = 1: ASVS 2.4.6 asks for at least 2^16.
PASSWORD_METHOD = "scrypt:65536:8:1"


class User(UserMixin, Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(30))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship(lazy="joined")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sign-in to inactive accounts
        return self.active

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[Role(self.role)]

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def password_needs_rehash(self) -> bool:
        return not self.password_hash.startswith(PASSWORD_METHOD + "$")
