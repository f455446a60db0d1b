"""One BLAS thread for the calling thread while it plans.

The optimiser's dense algebra is small (the water-filling dual: systems of a few hundred rows; HiGHS does not
use BLAS). OpenBLAS still splits such products over every core, and where the cores are busy -- the other
sites' solves, in threads or processes -- its threads wait for each other: measured on the 2 shared cores,
a 138 x 138 least-squares solve took 6-18 ms with the default 2 threads and 0.6-1.4 ms with one; the
water-filling dual of a 40-session site 0.12-0.58 s against 0.02 s. OpenBLAS (0.3.27+) can set the count
for one thread (`openblas_set_num_threads_local`); numpy and scipy each load their own copy, both are set,
and restored after. Where neither is found (another BLAS, another OS), nothing changes.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
from collections.abc import Callable, Iterator

_lock = threading.Lock()
_setters: list[Callable[[int], int]] | None = None


def _find() -> list[Callable[[int], int]]:
    global _setters
    with _lock:
        if _setters is None:
            try:
                with open("/proc/self/maps", encoding="utf-8") as maps:
                    paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
            except OSError:
                paths = set()
            found: list[Callable[[int], int]] = []
            for path in sorted(p for p in paths if p.startswith("/")):
                try:
                    setter = ctypes.CDLL(path).openblas_set_num_threads_local
                except (OSError, AttributeError):
                    continue
                setter.argtypes, setter.restype = [ctypes.c_int], ctypes.c_int
                found.append(setter)
            _setters = found
        return list(_setters)


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Inside: BLAS calls of this thread run on one thread; the previous counts are restored after."""
    previous = [(setter, setter(1)) for setter in _find()]
    try:
        yield
    finally:
        for setter, count in previous:
            setter(max(count, 1))
