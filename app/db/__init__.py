"""Persistence: importing this package maps every domain entity onto its table (`app.db.tables`)."""

from app.db import tables

__all__ = ["tables"]
