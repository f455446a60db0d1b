"""Water-filling on the LP's optimal face (small problems): equal fractions of max kW inside each interval.

The LP leaves the split inside an interval to its vertex; with large or unknown demands every session sits in
the first third of its demand, where fairness is linear, and a session can get nothing while others charge.
Among all plans with

* the same load on each session's own node (group, or the site) in every interval,
* each session's energy in the same third of its demand as in the LP (a box [lo_i, hi_i], hi_i <= D_i),
* the same total energy in each class of sessions with equal energy weight, priority and third,

this step takes the one minimising sum_it p_it^2 / (2 rho_i), rho_i the session's max kW. The energy,
fairness and earliness terms are linear on that set (so unchanged), and the optimality conditions give
water-filling: p_it = clip(rho_i (mu_nt + theta_i), l_it, u_it) -- every session of a node at the same
fraction mu_nt of its max kW in interval t, shifted by theta_i only where its energy box binds (a session
that must complete before it leaves). A convex QP, solved on its dual (`optimizer.activeset`: 0.02-0.08 s at
100 sessions x 96 intervals), else by HiGHS (0.4-1 s there) under a time limit; used up to MAX_VARIABLES
power variables, and kept only if it holds every constraint and keeps the other terms to 1e-9.
"""

from __future__ import annotations

import highspy
import numpy as np
import scipy.sparse as sp

from optimizer.activeset import solve_dual
from optimizer.check import violations
from optimizer.highs_lp import new_highs
from optimizer.objective import FAIR_SLOPES, early_value, fairness_value
from optimizer.prepare import SITE, Array, IntArray, Prepared

MAX_VARIABLES = 2_000
TIME_LIMIT_S = 1.0
KEEP_TOLERANCE = 1e-9


def waterfill(
    p: Prepared, plan: Array, lower: Array, upper: Array, time_limit_s: float | None = None
) -> Array:
    """`plan` (N, T) split anew inside each interval by the QP above, or `plan` where that does not apply."""
    # promises keep the LP's plan: they are served earliest deadline first (`objective.urgency`), not shared
    lower = np.where(p.promised[:, None], plan, lower)
    upper = np.where(p.promised[:, None], plan, upper)
    ei, et = np.nonzero(upper > 0)
    if not 0 < ei.size <= MAX_VARIABLES:
        return plan
    n, t_count, dt = p.n_sessions, p.n_intervals, p.interval_h
    node = np.where(p.session_group == SITE, len(p.group_ids), p.session_group)
    _, col = np.unique(node[ei] * t_count + et, return_inverse=True)
    col = col.reshape(-1)
    load = np.bincount(col, plan[ei, et]).astype(np.float64)
    energy = plan.sum(axis=1) * dt
    box_lo, box_hi, cls = _boxes(p, energy)
    class_kwh = np.bincount(cls, energy).astype(np.float64)
    n_cols, n_cls, k = load.size, class_kwh.size, ei.size
    rows = np.concatenate([col, n_cols + ei, n_cols + n + cls[ei]])
    values = np.concatenate([np.ones(k), np.full(k, dt), np.full(k, dt)])
    matrix = sp.csc_matrix((values, (rows, np.tile(np.arange(k), 3))), shape=(n_cols + n + n_cls, k))
    rho = np.maximum(upper.max(axis=1), 1e-9)[ei]
    solved = _solve(
        matrix,
        np.concatenate([load, box_lo, class_kwh]),
        np.concatenate([load, box_hi, class_kwh]),
        lower[ei, et],
        upper[ei, et],
        1.0 / rho,
        TIME_LIMIT_S if time_limit_s is None else min(TIME_LIMIT_S, time_limit_s),
    )
    if solved is None:
        return plan
    split = np.clip(solved, lower[ei, et], upper[ei, et])
    split = _scale_down(split, lower[ei, et], col, load)
    split = _scale_down(split, lower[ei, et], ei, np.minimum(box_hi, p.demand_kwh) / dt)
    out = np.zeros_like(plan)
    out[ei, et] = split
    return out if _keeps(p, plan, out) and not violations(p, out) else plan


def _boxes(p: Prepared, energy: Array) -> tuple[Array, Array, IntArray]:
    """Each session's energy box (the third of demand the LP put it in) and its class (energy weight,
    priority, third)."""
    thirds = len(FAIR_SLOPES)
    width = p.demand_kwh / thirds
    safe = np.where(width > 0, width, 1.0)
    # at a kink (energy = k D/3) the lower third: both are valid, and this one lets the session give way
    third = np.clip(np.ceil(energy / safe - 1e-6) - 1, 0, thirds - 1)  # CBC writes rounded values
    third = np.where(width > 0, third, 0).astype(np.int64)
    box_lo = np.minimum(third * width, energy)
    box_hi = np.maximum(np.minimum((third + 1) * width, p.demand_kwh), energy)
    key = np.column_stack([p.weight, p.priority, third])
    _, cls = np.unique(key, axis=0, return_inverse=True)
    return box_lo, box_hi, np.asarray(cls, dtype=np.int64).reshape(-1)


def _solve(
    matrix: sp.csc_matrix,
    row_lo: Array,
    row_hi: Array,
    col_lo: Array,
    col_hi: Array,
    curvature: Array,
    time_limit_s: float,
) -> Array | None:
    """min sum_k curvature_k x_k^2 / 2 subject to row_lo <= A x <= row_hi, col_lo <= x <= col_hi: on the
    dual (`optimizer.activeset`, exact, 10-30x faster), else by HiGHS's active-set QP solver."""
    try:
        solved = solve_dual(matrix, row_lo, row_hi, col_lo, col_hi, curvature)
    except (ArithmeticError, IndexError, ValueError):  # a shape it was not written for: HiGHS decides
        solved = None
    if solved is not None:
        return solved
    return solve_qp_highs(matrix, row_lo, row_hi, col_lo, col_hi, curvature, time_limit_s)


def solve_qp_highs(
    matrix: sp.csc_matrix,
    row_lo: Array,
    row_hi: Array,
    col_lo: Array,
    col_hi: Array,
    curvature: Array,
    time_limit_s: float,
) -> Array | None:
    """The same QP by HiGHS's active-set QP solver (0.4-0.9 s on a 100-session site); None past the limit."""
    n_rows, n_cols = matrix.shape
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, n_rows
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = np.zeros(n_cols), col_lo, col_hi
    lp.row_lower_, lp.row_upper_ = row_lo, row_hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n_cols, n_rows
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data
    hessian = highspy.HighsHessian()
    hessian.dim_ = n_cols
    hessian.format_ = highspy.HessianFormat.kTriangular
    hessian.start_ = np.arange(n_cols + 1, dtype=np.int32)
    hessian.index_ = np.arange(n_cols, dtype=np.int32)
    hessian.value_ = curvature
    model = highspy.HighsModel()
    model.lp_, model.hessian_ = lp, hessian
    h = new_highs()
    h.setOptionValue("time_limit", max(time_limit_s, 1e-3))
    h.setOptionValue("qp_regularization_value", 0.0)  # default 1e-7: it moved the split by 5e-6 kW
    h.passModel(model)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return np.asarray(h.getSolution().col_value, dtype=np.float64)


def _scale_down(values: Array, low: Array, group: IntArray, limit: Array) -> Array:
    """values with the part above `low` scaled down in every group whose sum is above its limit."""
    size = limit.size
    total = np.bincount(group, values, minlength=size)
    room = np.bincount(group, values - low, minlength=size)
    excess = np.maximum(total - limit, 0.0)
    factor = np.where(room > 0, 1.0 - excess / np.where(room > 0, room, 1.0), 1.0)
    return np.asarray(low + (values - low) * np.clip(factor, 0.0, 1.0)[group])


def _keeps(p: Prepared, before: Array, after: Array) -> bool:
    """Energy (promise-weighted), fairness and earliness of `after` at least those of `before`, to 1e-9."""

    def terms(plan: Array) -> tuple[float, float, float]:
        delivered = plan.sum(axis=1) * p.interval_h
        early = early_value(p, plan)
        return float((p.weight * delivered).sum()), fairness_value(p, delivered), early

    old, new = terms(before), terms(after)
    return all(b >= a - KEEP_TOLERANCE * (1.0 + abs(a)) for a, b in zip(old, new, strict=True))
