"""The water-filling QP (`optimizer.waterfill`) solved on its dual: semismooth Newton, then an exact polish.

min sum_k c_k x_k^2 / 2  subject to  row_lo <= A x <= row_hi,  col_lo <= x <= col_hi  (c > 0, one term per
variable), where the rows with two ends (the sessions' energy boxes) have positive coefficients on disjoint
sets of variables, and the others are equalities (the node-interval loads, the classes). For multipliers y
of the equalities, each box row's multiplier theta and its variables x = clip((A_E^T y + a theta) / c, lo, hi)
follow exactly (theta = 0 if the box holds there, else the root of a monotone piecewise-linear function:
its breakpoints sorted, the segment that reaches the end). The dual is then concave, C1 and piecewise
quadratic in y alone (a few tens to a few hundred rows): Newton with a backtracking line search, from each
load row's own water level, climbs it in 7-12 small dense solves on the benchmark's sites. From where it
stops, the active set (variables at a bound, rows at an end) is read off and the exact KKT system of that
set solved (a primal-dual active-set step, repeated while the set changes). Returned only if it passes the
optimality conditions (so it is the QP's unique optimum, to rounding); else None, and the caller uses
HiGHS's QP solver. Measured in docs/optimizer.md.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy import linalg

from optimizer.prepare import Array, BoolArray, IntArray

NEWTON_ITERATIONS = 60
POLISH_ITERATIONS = 10
TOLERANCE = 1e-9  # relative to the problem's largest bound: convergence and the final check


class _Boxes:
    """The box rows: row `row[k]` of each variable k (-1: none), its coefficient `coef[k]`, the ends."""

    def __init__(self, a: Array, boxed: IntArray, lo: Array, hi: Array, tol: float = 0.0) -> None:
        sub = a[boxed]
        self.n = boxed.size
        self.row = np.full(a.shape[1], -1, dtype=np.int64)
        self.coef = np.zeros(a.shape[1])
        r, k = np.nonzero(sub)
        self.row[k], self.coef[k] = r, sub[r, k]
        self.disjoint = bool(np.bincount(k, minlength=a.shape[1]).max(initial=0) <= 1)
        self.positive = bool((sub[r, k] > 0).all())
        self.lo, self.hi = lo[boxed], hi[boxed]
        self.inside = self.row >= 0
        self.tol = tol  # a row off its box by less moves not (a row of fixed variables, off by rounding)

    def theta(self, v: Array, rho: Array, col_lo: Array, col_hi: Array) -> Array:
        """Each box row's multiplier for the linear terms v (see the module's docstring): the row's sum is
        piecewise linear in theta, its slope changing where a variable leaves (reaches) a bound; the
        breakpoints sorted per row, the sum at each of them, the segment that reaches the end."""
        k, r, a = np.flatnonzero(self.inside), self.row[self.inside], self.coef[self.inside]
        x0 = np.clip(rho[k] * v[k], col_lo[k], col_hi[k])
        at_zero = np.bincount(r, a * x0, minlength=self.n)
        under, over = at_zero < self.lo - self.tol, at_zero > self.hi + self.tol
        goal = np.where(under, self.lo, np.where(over, self.hi, at_zero))
        move = under | over
        if not move.any():
            return np.zeros(self.n)
        at = np.concatenate([(col_lo[k] / rho[k] - v[k]) / a, (col_hi[k] / rho[k] - v[k]) / a])
        rows = np.concatenate([r, r])
        change = np.concatenate([a * a * rho[k], -a * a * rho[k]])
        order = np.lexsort((at, rows))
        at, rows, change = at[order], rows[order], change[order]
        first = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        starts = np.repeat(first, np.diff(np.r_[first, rows.size]))
        slope = np.cumsum(change)
        slope -= (slope - change)[starts]  # per row: the slope right of each breakpoint
        rise = np.r_[0.0, slope[:-1] * np.diff(at)]
        rise[first] = 0.0
        rise = np.cumsum(rise)
        base = np.bincount(r, a * col_lo[k], minlength=self.n)  # every variable at its lower bound
        level = base[rows] + rise - rise[starts]  # the row's sum at each breakpoint
        below = np.bincount(rows, (level <= goal[rows]).astype(np.float64), minlength=self.n).astype(np.int64)
        j = np.searchsorted(rows, np.arange(self.n)) + np.maximum(below - 1, 0)
        j = np.minimum(j, rows.size - 1)
        step = np.where(slope[j] > 0, (goal - level[j]) / np.where(slope[j] > 0, slope[j], 1.0), 0.0)
        return np.where(move, at[j] + np.where(below > 0, step, 0.0), 0.0)


def solve_dual(
    matrix: sp.csc_matrix,
    row_lo: Array,
    row_hi: Array,
    col_lo: Array,
    col_hi: Array,
    curvature: Array,
) -> Array | None:
    """The QP's optimum, or None where this method does not reach it (see the module's docstring)."""
    a = matrix.toarray()
    rho = 1.0 / curvature
    bounds = np.concatenate([row_lo, row_hi, col_lo, col_hi])
    tol = TOLERANCE * (1.0 + np.abs(bounds[np.isfinite(bounds)]).max(initial=0.0))
    equal = row_hi - row_lo <= tol
    boxes = _Boxes(a, np.flatnonzero(~equal), row_lo, row_hi, tol)
    if not (boxes.disjoint and boxes.positive):
        return None
    solved = _newton(a[equal], sp.csr_matrix(a[equal]), row_lo[equal], boxes, rho, col_lo, col_hi, tol)
    if solved is None:
        return None
    y_e, theta = solved
    y = np.zeros(a.shape[0])
    y[equal], y[~equal] = y_e, theta
    z = rho * (a.T @ y)
    at_col = np.where(z <= col_lo + tol, -1, np.where(z >= col_hi - tol, 1, 0))
    at_row = np.where(equal, -1, np.sign(-y).astype(np.int64))  # theta > 0: held at the lower end
    for _ in range(POLISH_ITERATIONS):
        x, y = _exact(a, rho, row_lo, row_hi, col_lo, col_hi, at_col, at_row, y)
        if _optimal(a, x, y, rho, row_lo, row_hi, col_lo, col_hi, equal, tol):
            return x
        z = rho * (a.T @ y)
        ax = a @ x
        new_col = np.where(z < col_lo - tol, -1, np.where(z > col_hi + tol, 1, 0))
        new_row = at_row.copy()
        inside = at_row == 0
        new_row[inside & (ax < row_lo - tol)] = -1
        new_row[inside & (ax > row_hi + tol)] = 1
        new_row[~equal & (at_row == -1) & (y < -tol)] = 0  # an end held by a multiplier of the wrong sign
        new_row[~equal & (at_row == 1) & (y > tol)] = 0
        if np.array_equal(new_col, at_col) and np.array_equal(new_row, at_row):
            return None
        at_col, at_row = new_col, new_row
    return None


def _newton(
    a_e: Array,
    sparse_e: sp.csr_matrix,
    b_e: Array,
    boxes: _Boxes,
    rho: Array,
    col_lo: Array,
    col_hi: Array,
    tol: float,
) -> tuple[Array, Array] | None:
    """Maximise the dual over the equalities' multipliers; where the line search stalls, the point reached
    (the exact polish after it is checked); None if it does not converge in NEWTON_ITERATIONS."""

    def dual(y: Array) -> tuple[float, Array, Array, Array, Array]:
        v = a_e.T @ y
        theta = boxes.theta(v, rho, col_lo, col_hi)
        w = v + boxes.coef * np.r_[theta, 0.0][boxes.row]  # row -1 (no box row): the appended 0
        x = np.clip(rho * w, col_lo, col_hi)
        ends = np.where(theta > 0, boxes.lo, boxes.hi) * theta
        value = float(b_e @ y) + float(ends.sum()) + float((x * x / rho).sum()) / 2 - float(w @ x)
        return value, b_e - a_e @ x, x, w, theta

    scale = float(((a_e * a_e) @ rho).mean()) if a_e.size else 1.0
    y = _levels(a_e, b_e, rho, col_lo, col_hi)
    value, gradient, x, w, theta = dual(y)
    for _ in range(NEWTON_ITERATIONS):
        if np.abs(gradient).max(initial=0.0) <= tol:
            return y, theta
        hessian = _hessian(sparse_e, boxes, rho, w, col_lo, col_hi, theta, gradient, scale)
        step = np.linalg.solve(hessian, gradient)
        slope = float(gradient @ step)
        t = 1.0
        while t > 1e-10:
            trial = dual(y + t * step)
            if trial[0] >= value + 1e-4 * t * slope:
                break
            t /= 2
        else:  # no more progress (near the top, rounding): the polish and its check decide
            return y, theta
        y = y + t * step
        value, gradient, x, w, theta = trial
    return None


def _levels(a_e: Array, b_e: Array, rho: Array, col_lo: Array, col_hi: Array) -> Array:
    """A start: the first equalities that share no variable (the node-interval loads) each at the water
    level that meets it alone, x = clip(rho y_r, lo, hi) on its variables; the other multipliers 0."""
    taken = np.zeros(a_e.shape[1], dtype=bool)
    rows = []
    for r in range(a_e.shape[0]):
        support = a_e[r] != 0
        if (a_e[r][support] > 0).all() and not (taken & support).any():
            rows.append(r)
            taken |= support
    y = np.zeros(a_e.shape[0])
    if rows:
        chosen = np.array(rows)
        levels = _Boxes(a_e, chosen, b_e, b_e)
        y[chosen] = levels.theta(np.zeros(a_e.shape[1]), rho, col_lo, col_hi)
    return y


def _hessian(
    a_e: sp.csr_matrix,
    boxes: _Boxes,
    rho: Array,
    w: Array,
    col_lo: Array,
    col_hi: Array,
    theta: Array,
    gradient: Array,
    scale: float,
) -> Array:
    """The dual's negated generalised Hessian: A_E J A_E^T, J = diag(rho) on the free variables less, for
    each box held at an end, the rank one that keeps its sum (plus a Levenberg-Marquardt shift that fades
    with the gradient: the rows are dependent, and a row with nothing free would give no curvature)."""
    z = rho * w
    free = (z >= col_lo) & (z <= col_hi)  # at a kink the variable counts as free
    d = np.where(free, rho, 0.0)
    hessian = np.asarray((a_e @ sp.diags(d) @ a_e.T).toarray())
    held = theta != 0
    if held.any():
        r = np.where(boxes.inside, boxes.row, boxes.n)
        da = d * boxes.coef
        weight = np.bincount(r, da * boxes.coef, minlength=boxes.n + 1)[: boxes.n]
        rows = np.flatnonzero(held & (weight > 0))
        if rows.size:
            k = np.flatnonzero(boxes.inside & np.isin(r, rows))
            column = np.searchsorted(rows, boxes.row[k])
            member = sp.csc_matrix((da[k], (k, column)), shape=(a_e.shape[1], rows.size))
            u = np.asarray((a_e @ member).toarray()) / np.sqrt(weight[rows])
            hessian -= u @ u.T
    shift = max(min(1.0, float(np.abs(gradient).max(initial=0.0))) * 1e-3, 1e-12) * scale
    hessian[np.diag_indices_from(hessian)] += shift
    return hessian


def _exact(
    a: Array,
    rho: Array,
    row_lo: Array,
    row_hi: Array,
    col_lo: Array,
    col_hi: Array,
    at_col: IntArray,
    at_row: IntArray,
    near: Array,
) -> tuple[Array, Array]:
    """x and y of an active set: free variables x = rho A^T y, held rows at their ends, the others y = 0;
    y the nearest to `near` (a row whose variables are all at bounds, or a dependent row, leaves y free in
    some directions: there the previous y, which keeps the variables at bounds pushed against them)."""
    held = np.flatnonzero(at_row != 0)
    free = at_col == 0
    x = np.where(at_col < 0, col_lo, np.where(at_col > 0, col_hi, 0.0))
    y = np.zeros(a.shape[0])
    if held.size:
        sub = a[held]
        goal = np.where(at_row[held] < 0, row_lo[held], row_hi[held]) - sub[:, ~free] @ x[~free]
        f = sub[:, free]
        # the rows are dependent (the classes' energies add up to the loads'): least squares, exact
        # wherever the system is consistent (the check after says whether it was)
        system = (f * rho[free]) @ f.T
        start = near[held]
        y[held] = start + linalg.lstsq(system, goal - system @ start, cond=1e-10, lapack_driver="gelsy")[0]
        x[free] = rho[free] * (f.T @ y[held])
    return x, y


def _optimal(
    a: Array,
    x: Array,
    y: Array,
    rho: Array,
    row_lo: Array,
    row_hi: Array,
    col_lo: Array,
    col_hi: Array,
    equal: BoolArray,
    tol: float,
) -> bool:
    """KKT: x within its bounds and the rows within their ends; each multiplier's sign right for the end it
    holds; x the clip of rho A^T y (every variable at a bound pushed against it)."""
    ax = a @ x
    if (x < col_lo - tol).any() or (x > col_hi + tol).any():
        return False
    if (ax < row_lo - tol).any() or (ax > row_hi + tol).any():
        return False
    loose = ~equal
    if (loose & (y > tol) & (ax > row_lo + tol)).any() or (loose & (y < -tol) & (ax < row_hi - tol)).any():
        return False
    z = rho * (a.T @ y)
    return bool(np.abs(np.clip(z, col_lo, col_hi) - x).max(initial=0.0) <= tol)
