"""Database models; import from here so Alembic sees every table."""

from service.models.base import Base
from service.models.problem import PackageVersion, Problem
from service.models.submission import Judging, Status, Submission, SubmissionFile, TestResult
from service.models.token import ApiToken
from service.models.user import LoginSession, Role, User

__all__ = [
    "ApiToken",
    "Base",
    "Judging",
    "LoginSession",
    "PackageVersion",
    "Problem",
    "Role",
    "Status",
    "Submission",
    "SubmissionFile",
    "TestResult",
    "User",
]
