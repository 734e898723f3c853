from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base


class OrgKind(StrEnum):
    ICB = "icb"
    PCN = "pcn"
    LMC = "lmc"
    ADMIN = "admin"


class Organisation(Base):
    """An ICB, a PCN, an LMC or the service's own administering body.

    `area_id` points at the ICB whose area the organisation sits in (a PCN) or covers (an LMC).
    """

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    ods_code: Mapped[str | None] = mapped_column(String(12), unique=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)

    area: Mapped["Organisation | None"] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<Organisation {self.kind} {self.name!r}>"
