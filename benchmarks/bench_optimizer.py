"""Optimiser benchmark: generated sites of 100 to 20,000 sessions x 96 intervals of 15 minutes.

Per size: build and solve seconds of the full objective (fast path), peak memory (peak RSS of a fresh
child process per measurement, `resource.getrusage`), delivered energy against the max-energy bound, and
time as ratios against a bare sparse HiGHS max-energy LP (IPM: on this plain, degenerate LP HiGHS's dual
simplex takes 9.5 s at 5,000 sessions against 1 s) and a plain PuLP + CBC max-energy LP, measured in the
same run.
"""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

SEED = 20261126
SIZES = (100, 1_000, 5_000, 20_000)
CBC_MAX = 5_000  # PuLP + CBC is skipped above this: 8-10 s at 5,000 already, and it is the slow baseline
START = datetime(2026, 11, 26, tzinfo=UTC)


def generate(n_sessions: int, seed: int = SEED, *, feeders: bool = False, min_kw: bool = False) -> Any:
    """A site for one day (equal priorities): a third plugged in at the start, a morning and an evening wave
    of arrivals; 7.4/11/22 kW, 5-60 kWh; capacity with a morning and an evening dip that bind; with
    `feeders`, one feeder per 50 sessions (110 kW each); with `min_kw`, minimum rates of a fifth of max."""
    from optimizer import Group, ScheduleProblem, Session

    rng = np.random.default_rng(seed)
    t_count = 96
    kind = rng.choice(3, size=n_sessions, p=[0.34, 0.33, 0.33])
    arrival_h = np.where(
        kind == 0,
        -rng.uniform(0, 6, n_sessions),
        np.where(kind == 1, rng.normal(8, 1, n_sessions), rng.normal(18, 1, n_sessions)),
    ).clip(-6, 22)
    dwell_h = rng.uniform(2, 11, n_sessions)
    departure_h = np.minimum(arrival_h + dwell_h, 30)
    max_kw = rng.choice([7.4, 11.0, 22.0], size=n_sessions, p=[0.5, 0.35, 0.15])
    energy = rng.uniform(5, 60, n_sessions)
    hours = np.arange(t_count) / 4
    curve = 0.9 - 0.35 * np.exp(-(((hours - 18.5) / 2.0) ** 2)) - 0.15 * np.exp(-(((hours - 8) / 1.5) ** 2))
    capacity = (curve * n_sessions * 1.6).round(1)
    n_groups = max(1, n_sessions // 50) if feeders else 0
    groups = [Group(f"F{g}", 110.0) for g in range(n_groups)]
    sessions = [
        Session(
            id=f"s{i}",
            arrival=START + timedelta(hours=float(arrival_h[i])),
            departure=START + timedelta(hours=float(departure_h[i])),
            energy_kwh=float(round(energy[i], 2)),
            max_kw=float(max_kw[i]),
            min_kw=float(round(max_kw[i] * 0.2, 1)) if min_kw else 0.0,
            group=f"F{i % n_groups}" if n_groups else None,
        )
        for i in range(n_sessions)
    ]
    return ScheduleProblem(START, 15, tuple(capacity), tuple(sessions), tuple(groups))


# --- measurements, each in a fresh child process (peak RSS per task) -------------------------------------


def _rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _bare_highs(problem: Any, algorithm: str) -> tuple[float, float]:
    """A plain max-energy LP, sparse matrix straight into highspy (independent of the optimiser's model code),
    `algorithm` simplex or ipm (with crossover): returns (seconds, optimal energy kWh)."""
    import highspy
    import scipy.sparse as sp

    from optimizer.highs_lp import new_highs

    began = time.perf_counter()
    t_count, dt = problem.n_intervals, problem.interval_h
    step = problem.interval_min * 60.0
    starts = np.arange(t_count) * step
    arrive = np.array([(s.arrival - problem.start).total_seconds() for s in problem.sessions])
    depart = np.array([(s.departure - problem.start).total_seconds() for s in problem.sessions])
    plugged = (starts[None, :] >= arrive[:, None]) & (starts[None, :] + step <= depart[:, None])
    var_i, var_t = np.nonzero(plugged)
    k = var_i.size
    n = len(problem.sessions)
    group_index = {g.id: j for j, g in enumerate(problem.groups)}
    rows = [var_t, t_count + var_i]
    cols = [np.arange(k), np.arange(k)]
    vals = [np.ones(k), np.full(k, dt)]
    row_hi = [np.array(problem.capacity_kw), np.array([s.energy_kwh for s in problem.sessions])]
    if problem.groups:
        g_of = np.array([group_index[s.group] for s in problem.sessions])
        rows.append(t_count + n + g_of[var_i] * t_count + var_t)
        cols.append(np.arange(k))
        vals.append(np.ones(k))
        row_hi.append(np.concatenate([np.array(g.capacity_at(t_count)) for g in problem.groups]))
    upper = np.concatenate(row_hi)
    matrix = sp.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(upper.size, k)
    )
    max_kw = np.array([s.max_kw for s in problem.sessions])
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = k, upper.size
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.full(k, dt)
    lp.col_lower_, lp.col_upper_ = np.zeros(k), max_kw[var_i]
    lp.row_lower_, lp.row_upper_ = np.full(upper.size, -highspy.kHighsInf), upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = k, upper.size
    lp.a_matrix_.start_, lp.a_matrix_.index_ = matrix.indptr.astype(np.int32), matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data
    h = new_highs()
    h.setOptionValue("solver", algorithm)
    h.passModel(lp)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return time.perf_counter() - began, float(h.getInfo().objective_function_value)


def _pulp_cbc(problem: Any) -> tuple[float, float]:
    """The same plain max-energy LP built row by row in PuLP and solved by the CBC bundled with PuLP 3.3."""
    import pulp
    from pulp.apis import coin_api

    began = time.perf_counter()
    prob = pulp.LpProblem("max_energy", pulp.LpMaximize)
    step = timedelta(minutes=problem.interval_min)
    dt = problem.interval_h
    power: dict[tuple[int, int], Any] = {}
    for i, s in enumerate(problem.sessions):
        for t in range(problem.n_intervals):
            begin = problem.start + t * step
            if s.arrival <= begin and begin + step <= s.departure:
                power[(i, t)] = prob.add_variable(f"p_{i}_{t}", 0, s.max_kw)
    by_t: dict[int, list[Any]] = {}
    by_i: dict[int, list[Any]] = {}
    by_g: dict[tuple[str, int], list[Any]] = {}
    for (i, t), var in power.items():
        by_t.setdefault(t, []).append(var)
        by_i.setdefault(i, []).append(var)
        group = problem.sessions[i].group
        if group is not None:
            by_g.setdefault((group, t), []).append(var)
    for t, terms in by_t.items():
        prob += pulp.lpSum(terms) <= problem.capacity_kw[t], f"site_{t}"
    capacity = {g.id: g.capacity_at(problem.n_intervals) for g in problem.groups}
    for (g, t), terms in by_g.items():
        prob += pulp.lpSum(terms) <= capacity[g][t], f"group_{g}_{t}"
    for i, terms in by_i.items():
        prob += dt * pulp.lpSum(terms) <= problem.sessions[i].energy_kwh, f"energy_{i}"
    prob += dt * pulp.lpSum(power.values())
    prob.solve(pulp.COIN_CMD(msg=False, path=coin_api.pulp_cbc_path))
    assert prob.status == pulp.LpStatusOptimal
    return time.perf_counter() - began, float(pulp.value(prob.objective))


def _task(kind: str, n: int, feeders: bool) -> dict[str, Any]:
    import faulthandler
    import warnings

    faulthandler.dump_traceback_later(90, repeat=True)  # a stuck measurement says where it is
    warnings.simplefilter("ignore", DeprecationWarning)
    from optimizer import solve

    problem = (
        generate(n, feeders=feeders, min_kw=kind == "min-lp") if not kind.startswith("identical") else None
    )
    before = _rss_mb()
    out: dict[str, Any] = {"kind": kind, "n": n, "feeders": feeders}
    if kind in ("full", "min-lp"):
        began = time.perf_counter()
        result = solve(problem)
        out["seconds"] = time.perf_counter() - began
        out["build"] = result.stats.get("build_seconds", 0.0)
        out["lp"] = result.stats.get("lp_seconds", 0.0)
        out["energy"] = result.delivered_kwh
        out["status"] = result.status.value
        out["changes"] = _changes(result)
    elif kind in ("edf", "equal-share"):
        began = time.perf_counter()
        result = solve(problem, strategy=kind)
        out["seconds"] = time.perf_counter() - began
        out["energy"] = result.delivered_kwh
        out["changes"] = _changes(result)
    elif kind.startswith("bare-"):
        out["seconds"], out["energy"] = _bare_highs(problem, kind.removeprefix("bare-"))
    elif kind == "cbc":
        out["seconds"], out["energy"] = _pulp_cbc(problem)
    elif kind == "min-milp":
        out.update(_min_milp(problem))
    elif kind.startswith("identical"):
        out.update(_identical(n, float(kind.split("-")[1])))
    out["peak_mb"] = _rss_mb()
    out["extra_mb"] = _rss_mb() - before
    return out


def _changes(result: Any) -> float:
    """Mean number of power changes per session (between consecutive intervals)."""
    counts = [
        sum(1 for a, b in zip(s.power_kw, s.power_kw[1:], strict=False) if abs(a - b) > 1e-6)
        for s in result.schedules.values()
    ]
    return float(np.mean(counts)) if counts else 0.0


def _identical(n: int, capacity_kw: float) -> dict[str, Any]:
    """n identical all-day sessions of unknown demand (22.08 kW x 24 h) under a flat capacity: the split."""
    from optimizer import ScheduleProblem, Session, solve

    end = START + timedelta(hours=24)
    sessions = tuple(Session(f"s{i}", START, end, 22.08 * 24, 22.08) for i in range(n))
    problem = ScheduleProblem(START, 15, (capacity_kw,) * 96, sessions)
    began = time.perf_counter()
    result = solve(problem)
    seconds = time.perf_counter() - began
    plan = np.array([s.power_kw for s in result.schedules.values()])
    return {
        "seconds": seconds,
        "first": plan[: min(n, 3), 0].tolist(),
        "spread": float(np.ptp(plan, axis=0).max()),
        "changes": _changes(result),
        "energy": result.delivered_kwh,
    }


def _min_milp(problem: Any) -> dict[str, Any]:
    """Minimum rates stated exactly (binary on/off per session and interval), PuLP + CBC, for comparison."""
    from optimizer.objective import Weights
    from optimizer.prepare import prepare
    from optimizer.reference import solve_reference

    p = prepare(problem)
    began = time.perf_counter()
    sol = solve_reference(
        p, p.lower_kw, p.upper_kw, Weights(), solver="cbc", time_limit_s=120, exact_min=True
    )
    return {
        "seconds": time.perf_counter() - began,
        "energy": float(sol.power_kw.sum() * p.interval_h),
        "status": sol.status.value,
    }


def _run(kind: str, n: int, feeders: bool = False) -> dict[str, Any]:
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_task, kind, n, feeders).result()


def _pct(value: float, bound: float) -> str:
    return f"{100 * value / bound:.2f}%" if bound else "-"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


COLUMNS = [
    "sessions",
    "full: build s",
    "full: solve s",
    "full: total s",
    "peak MB",
    "delivered / bound",
    "bare HiGHS s",
    "PuLP+CBC s",
    "full / bare",
    "CBC / full",
    "EDF / bound",
    "equal share / bound",
    "changes per session (LP / EDF)",
]


def main() -> None:
    began = time.perf_counter()
    print(f"seed {SEED}, 96 x 15 min, equal priorities; each figure from a fresh process; 2 shared cores\n")
    print(_row(COLUMNS))
    print(_row(["---"] * len(COLUMNS)))
    cases = [(n, False) for n in SIZES] + [(5_000, True)]
    for n, feeders in cases:
        full = _run("full", n, feeders)
        bare = _run("bare-ipm", n, feeders)
        cbc = _run("cbc", n, feeders) if n <= CBC_MAX else None
        edf = _run("edf", n, feeders)
        share = _run("equal-share", n, feeders)
        row = [
            f"{n:,}" + (" + feeders" if feeders else ""),
            f"{full['build']:.2f}",
            f"{full['lp']:.2f}",
            f"{full['seconds']:.2f}",
            f"{full['peak_mb']:.0f}",
            _pct(full["energy"], bare["energy"]),
            f"{bare['seconds']:.2f}",
            f"{cbc['seconds']:.2f}" if cbc else "skipped",
            f"{full['seconds'] / bare['seconds']:.2f}x",
            f"{cbc['seconds'] / full['seconds']:.1f}x" if cbc else "-",
            _pct(edf["energy"], bare["energy"]),
            _pct(share["energy"], bare["energy"]),
            f"{full['changes']:.1f} / {edf['changes']:.1f}",
        ]
        print(_row(row), flush=True)
    print(f"\nPuLP + CBC skipped above {CBC_MAX:,} sessions (the slow baseline; 8-10 s at 5,000 already).")
    print("full = the whole objective through `optimizer.solve` (prepare, LP, shift, checks, result).")
    print("\nMinimum rates (a fifth of max kW) with feeders: LP + repair + re-solve against the exact MILP")
    print(_row(["method", "sessions", "seconds", "delivered kWh", "status"]))
    print(_row(["---"] * 5))
    for kind, n, label in [
        ("min-lp", 40, "LP + repair + re-solve (HiGHS)"),
        ("min-milp", 40, "MILP, binary on/off (PuLP + CBC)"),
        ("min-lp", 1_000, "LP + repair + re-solve (HiGHS)"),
    ]:
        out = _run(kind, n, True)
        print(
            _row([label, f"{n:,}", f"{out['seconds']:.2f}", f"{out['energy']:.2f}", out["status"]]),
            flush=True,
        )
    print("\nFair within the interval: identical all-day sessions (22.08 kW, demand unknown), flat capacity")
    print(
        _row(
            [
                "sessions",
                "capacity kW",
                "first interval kW",
                "max spread kW",
                "changes per session",
                "seconds",
            ]
        )
    )
    print(_row(["---"] * 6))
    for n, capacity in ((3, 30.0), (100, 400.0), (1_000, 4_000.0)):
        out = _run(f"identical-{capacity}", n)
        first = ", ".join(f"{v:.2f}" for v in out["first"])
        cells = [f"{n:,}", f"{capacity:,.0f}", first, f"{out['spread']:.1e}", f"{out['changes']:.1f}"]
        print(_row([*cells, f"{out['seconds']:.2f}"]), flush=True)
    print(f"\nbenchmark time {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
