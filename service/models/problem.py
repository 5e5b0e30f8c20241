"""Imported problems and the package versions each import stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.models.base import Base, UTCDateTime, utcnow


class Problem(Base):
    """A problem students can see (unless hidden) and submit to; ``slug`` names it in URLs."""

    __tablename__ = "problems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    problem_set: Mapped[str] = mapped_column(String(64), default="default", index=True)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    # The package version submissions are judged against now (SHA-256 of the stored zip).
    package_hash: Mapped[str] = mapped_column(String(64))
    time_limit: Mapped[float] = mapped_column(Float)  # seconds, as judged
    memory_mb: Mapped[int] = mapped_column(Integer)
    output_mb: Mapped[int] = mapped_column(Integer)
    test_count: Mapped[int] = mapped_column(Integer)
    sample_count: Mapped[int] = mapped_column(Integer)
    # The tests' names in order (``sample/1``, ``secret/g1/03``...), so a student can be told
    # how many tests they see before any ran. None: imported before names were kept.
    test_names: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    # Who sees how much of each test group, and when (service.feedback.policy); None: defaults.
    feedback_policy: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    validation: Mapped[str] = mapped_column(String(16), default="default")
    # Statement as shipped: "markdown", "pdf", "latex" or "none"; HTML is rendered at import.
    statement_kind: Mapped[str] = mapped_column(String(16), default="none")
    statement_html: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    versions: Mapped[list[PackageVersion]] = relationship(
        back_populates="problem",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="PackageVersion.id",
    )


class PackageVersion(Base):
    """One import of a problem's package: which zip (by hash), when and by whom."""

    __tablename__ = "package_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    problem_id: Mapped[int] = mapped_column(
        ForeignKey("problems.id", ondelete="CASCADE"), index=True
    )
    package_hash: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    imported_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    verified: Mapped[bool] = mapped_column(Boolean, default=False)

    problem: Mapped[Problem] = relationship(back_populates="versions")
