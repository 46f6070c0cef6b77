"""Every benchmark figure in one run and one table.

    python -m benchmarks [--quick] [--only throughput,latency,...]

Each module measures its figures next to a reference taken in the same run; this prints
them all as one table (figure, value, reference, ratio, target, result). PostgreSQL figures
are skipped, with the reason, when PostgreSQL is not reachable.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import time
import traceback

from benchmarks.report import Figure, table

# Update handling, HTTP latency, outbound pacing, the due-work tick, memory, replicas.
MODULES = ["throughput", "latency", "pacing", "tick", "memory", "replicas"]


def main() -> None:
    p = argparse.ArgumentParser(description="all buddybot benchmarks, one table")
    p.add_argument("--quick", action="store_true", help="smaller loads, for a quick look")
    p.add_argument("--only", default="", help="comma-separated modules, e.g. tick,memory")
    args = p.parse_args()
    chosen = [m for m in args.only.split(",") if m] or MODULES
    rows: list[Figure] = []
    failed: list[str] = []
    begin = time.perf_counter()
    for name in chosen:
        started = time.perf_counter()
        print(f"== {name} …", flush=True)
        try:
            module = importlib.import_module(f"benchmarks.{name}")
            found: list[Figure] = asyncio.run(module.figures(quick=args.quick))
        except Exception:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            failed.append(name)
            continue
        rows += found
        print(table(found))
        print(f"   ({time.perf_counter() - started:.0f} s)", flush=True)
    print()
    print(table(rows))
    misses = sum(1 for r in rows if r.passed is False)
    print(
        f"\n{len(rows)} figures, {misses} targets missed, "
        f"{len(failed)} benchmarks failed{': ' + ', '.join(failed) if failed else ''}; "
        f"{time.perf_counter() - begin:.0f} s in all"
    )
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
