from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class DataVersion(Base):
    """How many times the data behind a group of pages has changed: a counter per scope ("org:42", "epoch", "all").

    Bumped in the same transaction as the change it counts (app/services/data_versions.py); a page kept by the page
    cache (app/page_cache.py) is served again only while the counters of the scopes it was rendered under are the same.
    """

    __tablename__ = "data_version"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
