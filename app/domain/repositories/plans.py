"""What planning reads in one go (a site's snapshot) and the revisions it stores."""

from typing import Protocol


class PlanRepository(Protocol):
    pass
