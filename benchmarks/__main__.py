"""Run every benchmark module (`python -m benchmarks [NAME ...]`, e.g. `python -m benchmarks optimizer`)."""

import importlib
import pkgutil
import sys

import benchmarks


def main(argv: list[str]) -> None:
    modules = pkgutil.iter_modules(benchmarks.__path__)
    names = sorted(m.name.removeprefix("bench_") for m in modules if m.name.startswith("bench_"))
    chosen = argv or names
    for name in chosen:
        if name not in names:
            raise SystemExit(f"unknown benchmark {name!r}; have {', '.join(names)}")
        print(f"\n=== benchmark: {name} ===", flush=True)
        importlib.import_module(f"benchmarks.bench_{name}").main()


if __name__ == "__main__":
    main(sys.argv[1:])
