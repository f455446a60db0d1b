"""The fast path: the scheduling LP built as one sparse matrix (numpy/scipy) and passed straight to HiGHS.

Same model as `optimizer.reference` (the readable PuLP formulation), column and row families in this order:

columns: p[i,t] for plugged-in (i, t) | fair[i,k] k < 3 | up[i,t], down[i,t] per consecutive pair
rows:    site_capacity[t] | group_capacity[g,t] | energy[i] | smooth[i,t]

Algorithm: dual simplex without presolve (a vertex: exact zeros, few fractional sessions per interval,
duals). With the earliness term out of the large LPs, it beat IPM + crossover at every benchmark size, with
feeders by 2-4x; HiGHS's presolve only cost time here (25-35% at 1,000-20,000 sessions). IPM + crossover
(also a vertex) where the smoothness term is in the LP (there 2x faster) and above SIMPLEX_MAX_VARIABLES. The
min-rate re-solve, warm from the first solve's basis with only the bounds changed, was slower than solving
afresh (0.24 against 0.16-0.19 s on 100-session sites): not kept. Measurements in docs/optimizer.md.
"""

from __future__ import annotations

import os
import sys
import threading
import time

import highspy
import numpy as np
import scipy.sparse as sp

from optimizer.objective import FAIR_SLOPES, FULL, SCALE, SMOOTH, Weights, available, power_cost, smooth_pairs
from optimizer.prepare import SITE, Array, Prepared
from optimizer.solution import LpSolution, LpStatus

INF = highspy.kHighsInf
_banner = threading.Lock()
_banner_done = False


def new_highs() -> highspy.Highs:
    """A Highs instance, output off. HiGHS prints a banner to the process's stdout (fd 1, C level) when the
    first instance is built; that would corrupt JSON on stdout, so the first one is built with fd 1 muted."""
    global _banner_done
    with _banner:
        if _banner_done:
            h = highspy.Highs()  # type: ignore[no-untyped-call]
        else:
            sys.stdout.flush()
            saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, 1)
                h = highspy.Highs()  # type: ignore[no-untyped-call]
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(devnull)
            _banner_done = True
    h.setOptionValue("output_flag", False)
    return h


SIMPLEX_MAX_VARIABLES = (
    2_000_000  # dual simplex up to this many power variables (all benchmark sizes), then IPM
)


def _blocks(
    p: Prepared, lower: Array, upper: Array, weights: Weights
) -> tuple[sp.csc_matrix, dict[str, Array], int]:
    n, t_count = p.n_sessions, p.n_intervals
    mask = available(p)
    var_i, var_t = np.nonzero(mask)
    k_count = var_i.size
    col_of = np.full((n, t_count), -1, dtype=np.int64)
    col_of[var_i, var_t] = np.arange(k_count)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    row_lo: list[np.ndarray] = []
    row_hi: list[np.ndarray] = []
    row = 0
    k = np.arange(k_count)

    # site_capacity[t]: sum_i p[i,t] <= C[t]
    rows.append(var_t.copy())
    cols.append(k)
    vals.append(np.ones(k_count))
    row_lo.append(np.full(t_count, -INF))
    row_hi.append(p.site_kw.copy())
    row += t_count

    # group_capacity[g,t]: sum_{i under g} p[i,t] <= C_g[t]
    g_count = len(p.group_ids)
    if g_count:
        for column in p.ancestors.T:
            node = column[var_i]
            inside = node != SITE
            rows.append(row + node[inside] * t_count + var_t[inside])
            cols.append(k[inside])
            vals.append(np.ones(int(inside.sum())))
        row_lo.append(np.full(g_count * t_count, -INF))
        row_hi.append(p.group_kw.reshape(-1).copy())
        row += g_count * t_count

    # energy[i]: dt * sum_t p[i,t] (- sum_k fair[i,k]) <= D_i  (= 0 with fairness)
    n_fair = 3 * n if weights.fairness else 0
    rows.append(row + var_i)
    cols.append(k)
    vals.append(np.full(k_count, p.interval_h))
    if weights.fairness:
        fair_cols = k_count + np.arange(n_fair)
        rows.append(row + np.repeat(np.arange(n), 3))
        cols.append(fair_cols)
        vals.append(-np.ones(n_fair))
        row_lo.append(np.zeros(n))
        row_hi.append(np.zeros(n))
    else:
        row_lo.append(np.full(n, -INF))
        row_hi.append(p.demand_kwh.copy())
    row += n

    # smooth[i,t]: p[i,t+1] - p[i,t] - up[i,t] + down[i,t] = 0
    pair_i, pair_t = smooth_pairs(mask) if weights.smooth else (np.zeros(0, np.int64), np.zeros(0, np.int64))
    m = pair_i.size
    if m:
        first = k_count + n_fair
        r = row + np.arange(m)
        rows += [r, r, r, r]
        cols += [
            col_of[pair_i, pair_t + 1],
            col_of[pair_i, pair_t],
            first + np.arange(m),
            first + m + np.arange(m),
        ]
        vals += [np.ones(m), -np.ones(m), -np.ones(m), np.ones(m)]
        row_lo.append(np.zeros(m))
        row_hi.append(np.zeros(m))
        row += m

    n_cols = k_count + n_fair + 2 * m
    matrix = sp.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(row, n_cols)
    )
    cost = np.zeros(n_cols)
    cost[:k_count] = power_cost(p, weights)[var_i, var_t]
    col_lo = np.zeros(n_cols)
    col_hi = np.full(n_cols, INF)
    col_lo[:k_count] = lower[var_i, var_t]
    col_hi[:k_count] = upper[var_i, var_t]
    if weights.fairness:
        cost[k_count : k_count + n_fair] = np.tile(FAIR_SLOPES, n) * np.repeat(p.fair_weight, 3)
        col_hi[k_count : k_count + n_fair] = np.repeat(p.demand_kwh / 3.0, 3)
    cost[k_count + n_fair :] = -SMOOTH
    arrays = {
        "cost": cost * SCALE,
        "col_lo": col_lo,
        "col_hi": col_hi,
        "row_lo": np.concatenate(row_lo),
        "row_hi": np.concatenate(row_hi),
        "var_i": var_i,
        "var_t": var_t,
    }
    return matrix, arrays, k_count


def _algorithm(k_count: int, weights: Weights) -> str:
    """Dual simplex, but IPM + crossover where the smoothness term is in the LP (small problems: its
    up/down columns and rows made dual simplex about 2x slower than IPM on the 100-session sites of
    `benchmarks sharding`, 0.30 against 0.14 s, same objective; on the optimizer benchmark's 100-session
    site dual simplex is the faster, 0.09-0.16 against 0.15-0.22 s) and above SIMPLEX_MAX_VARIABLES."""
    return "ipm" if weights.smooth or k_count > SIMPLEX_MAX_VARIABLES else "simplex"


def solve_highs(
    p: Prepared,
    lower: Array,
    upper: Array,
    weights: Weights = FULL,
    *,
    time_limit_s: float | None = None,
    algorithm: str | None = None,
) -> LpSolution:
    """Solve the scheduling LP with bounds `lower`/`upper` (N, T) through highspy."""
    shape = (p.n_sessions, p.n_intervals)
    began = time.perf_counter()
    matrix, a, k_count = _blocks(p, lower, upper, weights)
    if algorithm is None:
        algorithm = _algorithm(k_count, weights)
    h = new_highs()
    h.setOptionValue("solver", algorithm)
    if algorithm == "ipm":
        h.setOptionValue("run_crossover", "on")
    else:
        h.setOptionValue("presolve", "off")  # measured: 25-35% faster here (the model is already tight)
    if time_limit_s is not None:
        h.setOptionValue("time_limit", max(float(time_limit_s), 1e-3))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = matrix.shape[1], matrix.shape[0]
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = a["cost"], a["col_lo"], a["col_hi"]
    lp.row_lower_, lp.row_upper_ = a["row_lo"], a["row_hi"]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = matrix.shape[1], matrix.shape[0]
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data
    h.passModel(lp)
    built = time.perf_counter()
    h.run()
    solved = time.perf_counter()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kModelEmpty:
        return LpSolution(LpStatus.OPTIMAL, np.zeros(shape), np.zeros(p.n_intervals), built - began, 0.0)
    if status == highspy.HighsModelStatus.kTimeLimit:
        return LpSolution.failed(
            shape, LpStatus.TIME_LIMIT, "HiGHS hit the time limit", built - began, solved - built
        )
    if status != highspy.HighsModelStatus.kOptimal:
        message = f"HiGHS: {h.modelStatusToString(status)}"
        return LpSolution.failed(shape, LpStatus.FAILED, message, built - began, solved - built)
    solution = h.getSolution()
    values = np.asarray(solution.col_value)[:k_count]
    power = np.zeros(shape)
    power[a["var_i"], a["var_t"]] = values
    duals = np.asarray(solution.row_dual)[: p.n_intervals] if solution.dual_valid else np.zeros(p.n_intervals)
    return LpSolution(LpStatus.OPTIMAL, power, np.abs(duals) / SCALE, built - began, solved - built)
