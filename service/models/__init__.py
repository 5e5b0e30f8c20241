"""Database models; import from here so Alembic sees every table."""

from service.models.base import Base
from service.models.course import (
    Assignment,
    AssignmentProblem,
    AuditEntry,
    Course,
    CourseRole,
    Extension,
    GradeOverride,
    Member,
    Section,
)
from service.models.problem import PackageVersion, Problem
from service.models.submission import Judging, Status, Submission, SubmissionFile, TestResult
from service.models.token import ApiToken
from service.models.user import LoginSession, Role, User

__all__ = [
    "ApiToken",
    "Assignment",
    "AssignmentProblem",
    "AuditEntry",
    "Base",
    "Course",
    "CourseRole",
    "Extension",
    "GradeOverride",
    "Judging",
    "LoginSession",
    "Member",
    "PackageVersion",
    "Problem",
    "Role",
    "Section",
    "Status",
    "Submission",
    "SubmissionFile",
    "TestResult",
    "User",
]
