"""Loads on the site and group tree: per-node sums and headroom, vectorised over sessions."""

from __future__ import annotations

import numpy as np

from optimizer.prepare import SITE, Array, Prepared


def group_loads(p: Prepared, power_kw: Array) -> Array:
    """(G, T) or (G,): the load under each group, for power per session (N, T) or (N,)."""
    g_count = len(p.group_ids)
    flat = power_kw.reshape(p.n_sessions, power_kw.shape[1] if power_kw.ndim == 2 else 1)
    loads = np.zeros((g_count, flat.shape[1]))
    for column in p.ancestors.T:
        inside = column != SITE
        if inside.any():
            np.add.at(loads, column[inside], flat[inside])
    return loads.reshape((g_count, *power_kw.shape[1:]))


def headroom(p: Prepared, power_kw: Array, t: int) -> tuple[float, Array]:
    """Site and per-group spare capacity at interval t for a column of power (N,)."""
    site = float(p.site_kw[t] - power_kw.sum())
    groups = p.group_kw[:, t] - group_loads(p, power_kw) if p.group_ids else np.zeros(0)
    return site, groups


def chain_headroom(p: Prepared, i: int, site: float, groups: Array) -> float:
    room = site
    for node in p.ancestors[i]:
        if node != SITE:
            room = min(room, float(groups[node]))
    return room


def take(p: Prepared, i: int, amount_kw: float, groups: Array) -> None:
    for node in p.ancestors[i]:
        if node != SITE:
            groups[node] -= amount_kw
