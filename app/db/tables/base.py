"""The metadata every table joins, and the registry that maps the domain's entities onto them."""

from sqlalchemy import MetaData
from sqlalchemy.orm import registry

metadata = MetaData()
mapper_registry = registry(metadata=metadata)
