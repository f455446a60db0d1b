"""A site's planning snapshot in one read, and the revisions planning stores."""

from app.db.repositories.base import Repository


class SqlPlanRepository(Repository):
    pass
