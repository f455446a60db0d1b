"""smartcharge's scheduling core: a capacity forecast and charging sessions in, a schedule per session out.

Pure: no clock, database, network or logging set-up. See docs/optimizer.md for the maths.
"""

from optimizer.datatypes import (
    Explanation,
    Group,
    ObjectiveParts,
    Override,
    OverrideKind,
    Relaxation,
    ScheduleProblem,
    ScheduleResult,
    Session,
    SessionSchedule,
    Status,
)
from optimizer.errors import InstanceError
from optimizer.instance import problem_from_dict, problem_to_dict, result_to_dict
from optimizer.periods import compress_periods
from optimizer.pipeline import SOLVERS, STRATEGIES, solve

__all__ = [
    "SOLVERS",
    "STRATEGIES",
    "Explanation",
    "Group",
    "InstanceError",
    "ObjectiveParts",
    "Override",
    "OverrideKind",
    "Relaxation",
    "ScheduleProblem",
    "ScheduleResult",
    "Session",
    "SessionSchedule",
    "Status",
    "compress_periods",
    "problem_from_dict",
    "problem_to_dict",
    "result_to_dict",
    "solve",
]
