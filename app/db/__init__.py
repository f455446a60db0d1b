"""Persistence: importing this package registers every table on `SQLModel.metadata`."""

from app.db import planning_tables, schedule_tables, tables

__all__ = ["planning_tables", "schedule_tables", "tables"]
