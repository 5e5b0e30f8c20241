"""Submissions, their judgings (one per evaluation, rejudges add more) and test results."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.models.base import Base, UTCDateTime, utcnow
from service.models.problem import Problem
from service.models.user import User


class Status(enum.StrEnum):
    """Where a judging is: waiting for a worker, being judged, or finished."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"


def _enum(kind: type[enum.Enum]) -> Enum:
    return Enum(kind, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class Submission(Base):
    """Source files one user sent for one problem; the verdict mirrors the current judging."""

    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_user_created", "user_id", "created_at"),
        Index("ix_submissions_problem_created", "problem_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    status: Mapped[Status] = mapped_column(_enum(Status), default=Status.QUEUED, index=True)
    verdict: Mapped[str | None] = mapped_column(String(8), nullable=True, index=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    # The judging whose result the submission shows (the newest one).
    judging_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source_bytes: Mapped[int] = mapped_column(Integer, default=0)

    user: Mapped[User] = relationship()
    problem: Mapped[Problem] = relationship()
    files: Mapped[list[SubmissionFile]] = relationship(
        back_populates="submission",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="SubmissionFile.id",
    )
    judgings: Mapped[list[Judging]] = relationship(
        back_populates="submission",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Judging.id",
    )


class SubmissionFile(Base):
    """One source file of a submission (UTF-8 text, size-checked before storing)."""

    __tablename__ = "submission_files"
    __table_args__ = (UniqueConstraint("submission_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text)

    submission: Mapped[Submission] = relationship(back_populates="files")


class Judging(Base):
    """One evaluation of a submission; a rejudge adds a new one and keeps the old."""

    __tablename__ = "judgings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    package_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[Status] = mapped_column(_enum(Status), default=Status.QUEUED, index=True)
    verdict: Mapped[str | None] = mapped_column(String(8), nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    passed: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    max_time_ms: Mapped[int] = mapped_column(Integer, default=0)
    max_memory_kb: Mapped[int] = mapped_column(Integer, default=0)
    compile_output: Mapped[str] = mapped_column(Text, default="")
    message: Mapped[str] = mapped_column(Text, default="")
    # ``message`` as parts, each about one test or the judging (service.judgings.MessagePart),
    # so each part is shown by its own test's visibility. None: stored before parts existed.
    message_parts: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    # Who runs it: "<host>:<pid>:<random>" of the worker that claimed it, and its last sign of life.
    worker: Mapped[str] = mapped_column(String(128), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    submission: Mapped[Submission] = relationship(back_populates="judgings")
    results: Mapped[list[TestResult]] = relationship(
        back_populates="judging",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="TestResult.index",
    )


class TestResult(Base):
    """The verdict of one test in one judging."""

    __test__ = False  # not a pytest class
    __tablename__ = "test_results"
    __table_args__ = (UniqueConstraint("judging_id", "index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    judging_id: Mapped[int] = mapped_column(ForeignKey("judgings.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    verdict: Mapped[str] = mapped_column(String(8))
    time_ms: Mapped[int] = mapped_column(Integer, default=0)
    wall_ms: Mapped[int] = mapped_column(Integer, default=0)
    memory_kb: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    # The start of the program's standard output (at most OUTPUT_KEPT bytes, as UTF-8 text
    # with undecodable bytes replaced), shown beside the answer where the policy allows.
    output: Mapped[str] = mapped_column(Text, default="")
    output_bytes: Mapped[int] = mapped_column(Integer, default=0)  # its whole length

    judging: Mapped[Judging] = relationship(back_populates="results")
