from enum import StrEnum

from sqlalchemy import Column, ForeignKey, String, Table, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base


class OrgKind(StrEnum):
    ICB = "icb"
    SUB_ICB = "sub_icb"  # a sub-ICB location (three-character code such as 91Q), within one ICB
    PCN = "pcn"
    LMC = "lmc"
    ADMIN = "admin"


# The sub-ICB locations an LMC covers: an LMC's area does not always match one ICB.
lmc_coverage = Table(
    "lmc_coverage",
    Base.metadata,
    Column("lmc_id", ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True),
    Column("sub_icb_id", ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True),
)


class Organisation(Base):
    """An ICB, a sub-ICB location, a PCN, an LMC or the service's own administering body.

    `area_id` points at the ICB whose area the organisation sits in (a sub-ICB location or a PCN) or that it
    mainly works with (an LMC). A PCN's `parent_id` is its sub-ICB location, as NHS England publishes it.
    """

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    ods_code: Mapped[str | None] = mapped_column(String(12), unique=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)

    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    # A PCN's clinical director may let the PCN be named to its LMC in benchmarks (off by default: a letter).
    named_to_lmc: Mapped[bool] = mapped_column(default=False, server_default=text("false"))

    area: Mapped["Organisation | None"] = relationship(remote_side=[id], foreign_keys=[area_id])
    parent: Mapped["Organisation | None"] = relationship(remote_side=[id], foreign_keys=[parent_id])
    covers: Mapped[list["Organisation"]] = relationship(
        secondary=lmc_coverage,
        primaryjoin=lambda: Organisation.id == lmc_coverage.c.lmc_id,
        secondaryjoin=lambda: Organisation.id == lmc_coverage.c.sub_icb_id,
        order_by=lambda: Organisation.ods_code,
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.kind} {self.name!r}>"
