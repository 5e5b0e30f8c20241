"""Database models; import from here so Alembic sees every table."""

from service.models.base import Base
from service.models.user import LoginSession, Role, User

__all__ = ["Base", "LoginSession", "Role", "User"]
