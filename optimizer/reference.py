"""The readable reference: the same LP as `optimizer.highs_lp`, written in PuLP, one function per family.

Slower to build (Python objects per coefficient) but easy to read and to check; the tests compare both on
small problems. It also solves with CBC (bundled with PuLP), under a wall-clock time limit enforced from
outside (CBC's own `-sec` is not a wall clock), and can state the minimum rate exactly as a MILP, to
measure the LP-and-repair method against. The steps after the LP (earliness shift, hourly smoothing, the
fair split within the interval) run on either backend's plan, so the tests compare final plans.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import pulp
from pulp.apis import coin_api

from optimizer.highs_lp import new_highs
from optimizer.objective import FAIR_SLOPES, FULL, SCALE, SMOOTH, Weights, available, power_cost, smooth_pairs
from optimizer.prepare import SITE, Array, Prepared
from optimizer.solution import LpSolution, LpStatus

Var: TypeAlias = pulp.LpVariable
Constraint: TypeAlias = pulp.LpConstraint
Key: TypeAlias = tuple[int, int]


@dataclass
class Model:
    prob: pulp.LpProblem
    power: dict[Key, Var]
    site_capacity: dict[int, Constraint]


def add_power(prob: pulp.LpProblem, p: Prepared, lower: Array, upper: Array) -> dict[Key, Var]:
    """p[i,t] in [lower, upper] for every (i, t) where session i may draw power."""
    keys = [(int(i), int(t)) for i, t in zip(*np.nonzero(available(p)), strict=True)]
    power: dict[Key, Var] = prob.add_variable_dicts("p", keys, lowBound=0)
    for (i, t), var in power.items():
        var.lowBound, var.upBound = float(lower[i, t]), float(upper[i, t])
    return power


def add_site_capacity(prob: pulp.LpProblem, p: Prepared, power: dict[Key, Var]) -> dict[int, Constraint]:
    """site_capacity[t]: sum_i p[i,t] <= C[t]."""
    by_t: dict[int, list[Var]] = {t: [] for t in range(p.n_intervals)}
    for (_, t), var in power.items():
        by_t[t].append(var)
    added = {}
    for t, terms in by_t.items():
        constraint = pulp.lpSum(terms) <= float(p.site_kw[t])
        prob.addConstraint(constraint, f"site_capacity_{t}")
        added[t] = constraint
    return added


def add_group_capacity(prob: pulp.LpProblem, p: Prepared, power: dict[Key, Var]) -> dict[Key, Constraint]:
    """group_capacity[g,t]: sum of p[i,t] over the sessions below group g <= C_g[t]."""
    by_node: dict[Key, list[Var]] = {}
    for (i, t), var in power.items():
        for g in p.ancestors[i]:
            if g != SITE:
                by_node.setdefault((int(g), t), []).append(var)
    added = {}
    for (g, t), terms in sorted(by_node.items()):
        constraint = pulp.lpSum(terms) <= float(p.group_kw[g, t])
        prob.addConstraint(constraint, f"group_capacity_{g}_{t}")
        added[(g, t)] = constraint
    return added


def add_energy(
    prob: pulp.LpProblem, p: Prepared, power: dict[Key, Var], weights: Weights
) -> dict[int, list[Var]]:
    """energy[i]: dt * sum_t p[i,t] <= D_i; with fairness = fair[i,0] + fair[i,1] + fair[i,2], each <= D_i/3.

    Returns the fairness segment variables per session (empty without fairness)."""
    by_i: dict[int, list[Var]] = {i: [] for i in range(p.n_sessions)}
    for (i, _), var in power.items():
        by_i[i].append(var)
    segments: dict[int, list[Var]] = {}
    for i, terms in by_i.items():
        delivered = p.interval_h * pulp.lpSum(terms)
        if weights.fairness:
            width = float(p.demand_kwh[i]) / len(FAIR_SLOPES)
            segments[i] = [prob.add_variable(f"fair_{i}_{k}", 0, width) for k in range(len(FAIR_SLOPES))]
            prob.addConstraint(delivered == pulp.lpSum(segments[i]), f"energy_{i}")
        else:
            prob.addConstraint(delivered <= float(p.demand_kwh[i]), f"energy_{i}")
    return segments


def add_smoothness(prob: pulp.LpProblem, p: Prepared, power: dict[Key, Var]) -> list[Var]:
    """smooth[i,t]: p[i,t+1] - p[i,t] = up[i,t] - down[i,t]; returns the up and down variables."""
    changes: list[Var] = []
    for i, t in zip(*smooth_pairs(available(p)), strict=True):
        up = prob.add_variable(f"up_{i}_{t}", 0)
        down = prob.add_variable(f"down_{i}_{t}", 0)
        prob.addConstraint(
            power[(int(i), int(t) + 1)] - power[(int(i), int(t))] == up - down, f"smooth_{i}_{t}"
        )
        changes += [up, down]
    return changes


def add_min_rate_milp(prob: pulp.LpProblem, p: Prepared, power: dict[Key, Var], upper: Array) -> None:
    """min_rate[i,t] exactly: on[i,t] binary, min_i * on <= p[i,t] <= upper * on (fixed power excepted)."""
    for (i, t), var in power.items():
        if p.min_kw[i] > 0 and not p.fixed[i, t] and upper[i, t] > 0:
            on = prob.add_variable(f"on_{i}_{t}", cat=pulp.LpBinary)
            prob.addConstraint(var >= float(p.min_kw[i]) * on, f"min_rate_lo_{i}_{t}")
            prob.addConstraint(var <= float(upper[i, t]) * on, f"min_rate_hi_{i}_{t}")


def build(p: Prepared, lower: Array, upper: Array, weights: Weights, *, exact_min: bool = False) -> Model:
    prob = pulp.LpProblem("schedule", pulp.LpMaximize)
    power = add_power(prob, p, lower, upper)
    site = add_site_capacity(prob, p, power)
    add_group_capacity(prob, p, power)
    segments = add_energy(prob, p, power, weights)
    changes = add_smoothness(prob, p, power) if weights.smooth else []
    if exact_min:
        add_min_rate_milp(prob, p, power, upper)
    cost = power_cost(p, weights) * SCALE
    terms = [float(cost[i, t]) * var for (i, t), var in power.items()]
    for i, seg in segments.items():
        weight = SCALE * float(p.fair_weight[i])
        terms += [weight * slope * var for slope, var in zip(FAIR_SLOPES, seg, strict=True)]
    terms += [-SCALE * SMOOTH * var for var in changes]
    prob.setObjective(pulp.lpSum(terms))
    return Model(prob, power, site)


def solve_reference(
    p: Prepared,
    lower: Array,
    upper: Array,
    weights: Weights = FULL,
    *,
    solver: str = "cbc",
    time_limit_s: float | None = None,
    exact_min: bool = False,
) -> LpSolution:
    """Build with PuLP and solve with CBC (`cbc`) or HiGHS through PuLP (`pulp-highs`)."""
    shape = (p.n_sessions, p.n_intervals)
    began = time.perf_counter()
    model = build(p, lower, upper, weights, exact_min=exact_min)
    built = time.perf_counter()
    if solver == "cbc":
        status, message = _run_cbc(model.prob, time_limit_s, mip=exact_min)
    else:
        status, message = _run_pulp_highs(model.prob, time_limit_s)
    solved = time.perf_counter()
    if status is not LpStatus.OPTIMAL:
        return LpSolution.failed(shape, status, message, built - began, solved - built)
    power = np.zeros(shape)
    for (i, t), var in model.power.items():
        power[i, t] = var.varValue or 0.0
    duals = np.array([abs(model.site_capacity[t].pi or 0.0) for t in range(p.n_intervals)]) / SCALE
    return LpSolution(LpStatus.OPTIMAL, power, duals, built - began, solved - built)


def _run_pulp_highs(prob: pulp.LpProblem, time_limit_s: float | None) -> tuple[LpStatus, str]:
    began = time.perf_counter()
    new_highs()  # the banner, muted once per process
    solver = pulp.HiGHS(msg=False, timeLimit=time_limit_s, solver="ipm", run_crossover="on")
    prob.solve(solver)
    # PuLP 3.3 reports Optimal when HiGHS stops at its time limit: ask HiGHS itself.
    highs_status = solver.solverModel.getModelStatus() if hasattr(solver, "solverModel") else None
    if time_limit_s is not None and time.perf_counter() - began >= time_limit_s:
        return LpStatus.TIME_LIMIT, "HiGHS (through PuLP) hit the time limit"
    if highs_status is not None and str(highs_status).endswith("kOptimal") is False:
        return LpStatus.FAILED, f"HiGHS (through PuLP): {highs_status}"
    if prob.status != pulp.LpStatusOptimal:
        return LpStatus.FAILED, f"HiGHS (through PuLP): {pulp.LpStatus[prob.status]}"
    return LpStatus.OPTIMAL, ""


def _run_cbc(prob: pulp.LpProblem, time_limit_s: float | None, *, mip: bool) -> tuple[LpStatus, str]:
    """CBC as a subprocess, killed at the wall-clock deadline (the way PuLP runs it, plus a timeout)."""
    cbc = pulp.COIN_CMD(msg=False, path=coin_api.pulp_cbc_path)  # the CBC bundled with PuLP 3.3
    with tempfile.TemporaryDirectory(prefix="smartcharge-cbc-") as folder:
        mps, sol = os.path.join(folder, "model.mps"), os.path.join(folder, "model.sol")
        variables, var_names, con_names, _ = prob.writeMPS(mps, rename=1)
        args = [cbc.path, mps, "-max", "-solve" if mip else "-initialSolve", "-printingOptions", "all"]
        args += ["-solution", sol]
        try:
            subprocess.run(args, capture_output=True, timeout=time_limit_s, check=True)
        except subprocess.TimeoutExpired:
            return LpStatus.TIME_LIMIT, "CBC hit the wall-clock time limit (killed)"
        except (subprocess.CalledProcessError, OSError) as error:
            return LpStatus.FAILED, f"CBC failed: {error}"
        if not os.path.exists(sol):
            return LpStatus.FAILED, "CBC wrote no solution"
        status, values, reduced, duals, slacks, _ = cbc.readsol_MPS(
            sol, prob, variables, var_names, con_names
        )
    prob.assignVarsVals(values)
    prob.assignConsPi(duals)
    if status != pulp.LpStatusOptimal:
        return LpStatus.FAILED, f"CBC: {pulp.LpStatus.get(status, status)}"
    return LpStatus.OPTIMAL, ""
