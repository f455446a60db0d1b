"""Tables, one module per context. Importing this package maps every domain entity onto its table.

The rule for names: a table is its entity's class name in snake_case (`SiteGroup` → `site_group`), its
Core `Table` object that name with `_table`.
"""

from app.db.tables import access, cluster, ocpp, planning, security
from app.db.tables.base import metadata

__all__ = ["access", "cluster", "metadata", "ocpp", "planning", "security"]
