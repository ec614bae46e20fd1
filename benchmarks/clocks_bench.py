"""How fast duly turns a large ticket history into SLA clocks and a compliance report.

    python benchmarks/clocks_bench.py                  # 1,000,000 tickets (about 8 events each)
    python benchmarks/clocks_bench.py --tickets 100000 --quick

It generates a seeded synthetic history (duly.service.simulation), writes it as Parquet and JSON
Lines, and measures, each in a fresh process so that peak memory is the command's own:

* ``duly report compliance`` end to end (read, evaluate every clock, group, print) per format;
* the batch engine alone, and the per-ticket path (what the server runs per event) on a sample,
  side by side in one process, with their ratio: the per-ticket path is what a user would write
  with duly's own ``evaluate_ticket`` in a loop.

Files are cached in --workdir (default: the system temp folder) by size and seed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "benchmarks" / "clocks_config.yaml"
NOW = "2026-10-15T12:00:00Z"

# Runs the CLI in a child process and reports its own wall time and peak memory.
_MEASURE = """
import resource, sys, time
from duly.cli import app
start, cpu = time.perf_counter(), time.process_time()
try:
    app(sys.argv[1:])
except SystemExit as exit:
    code = exit.code or 0
else:
    code = 0
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"MEASURE {elapsed:.3f} {peak:.0f} {code} {cpu:.3f}", file=sys.stderr)
"""


def _files(tickets: int, seed: int, workdir: Path) -> dict[str, Path]:
    from duly.service.simulation import synthetic_history, write_history

    paths = {
        "parquet": workdir / f"duly-history-{tickets}-{seed}.parquet",
        "jsonl": workdir / f"duly-history-{tickets}-{seed}.jsonl",
    }
    if all(p.exists() for p in paths.values()):
        return paths
    started = time.perf_counter()
    table = synthetic_history(tickets, seed=seed)
    print(
        f"generated {tickets:,} tickets, {table.num_rows:,} events "
        f"in {time.perf_counter() - started:.1f} s"
    )
    for path in paths.values():
        started = time.perf_counter()
        write_history(table, path)
        size = path.stat().st_size / 1e6
        print(f"wrote {path.name} ({size:,.0f} MB) in {time.perf_counter() - started:.1f} s")
    return paths


def _report(path: Path, repeat: int) -> tuple[float, float, float]:
    """Median seconds, peak MB and median CPU seconds of ``duly report compliance`` on ``path``.

    CPU time (both cores' worth) is printed too: on a shared machine it varies far less than
    the wall time, so it is what to compare two versions by.
    """
    times, peaks, cpus = [], [], []
    for _ in range(repeat):
        command = [
            sys.executable,
            "-c",
            _MEASURE,
            "report",
            "compliance",
            "--config",
            str(CONFIG),
            "--events",
            str(path),
            "--by",
            "month,agreement,metric",
            "--format",
            "csv",
            "--now",
            NOW,
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        line = [x for x in result.stderr.splitlines() if x.startswith("MEASURE")]
        if not line or line[-1].split()[3] != "0":
            raise SystemExit(f"duly report failed:\n{result.stderr[-2000:]}")
        _, seconds, peak, _, cpu = line[-1].split()
        times.append(float(seconds))
        peaks.append(float(peak))
        cpus.append(float(cpu))
    return statistics.median(times), max(peaks), statistics.median(cpus)


def _engine(path: Path, sample: int, repeat: int) -> None:
    """Batch engine vs per-ticket path in this process, on the same tickets."""
    import numpy as np

    from duly.config import load_config
    from duly.core.batch import EventColumns, evaluate_batch
    from duly.core.clock_table import ClockTable
    from duly.service.event_columns import read_columns
    from duly.service.history import clocks_by_ticket, read_history
    from duly.service.simulation import synthetic_history, write_history

    config = load_config(CONFIG)
    now = datetime.fromisoformat(NOW)
    started = time.perf_counter()
    read = read_columns([path])
    assert read is not None
    read_s = time.perf_counter() - started
    batch_times = []
    for _ in range(repeat):
        started = time.perf_counter()
        table = evaluate_batch(read.columns, config, now)
        batch_times.append(time.perf_counter() - started)
    tickets = len(read.columns.ticket.labels)
    batch_s = statistics.median(batch_times)
    print(f"  read as columns: {read_s:.2f} s for {read.lines:,} events")
    print(
        f"  batch engine: {batch_s:.2f} s for {tickets:,} tickets, {len(table):,} clocks "
        f"-> {tickets / batch_s:,.0f} tickets/s"
    )

    # A sample of the same kind of history through both paths. It is generated apart rather
    # than cut from the big file, so that this process does not hold millions of event objects
    # (whose garbage collection would slow the per-ticket path down, unfairly).
    del read, table
    sample_path = path.with_name(f"duly-sample-{sample}.jsonl")
    write_history(synthetic_history(sample, seed=7), sample_path)
    events = read_history([sample_path]).events
    columns = EventColumns.from_events(events)
    clocks_by_ticket(events, config, now)  # warm the calendars' tables
    started = time.perf_counter()
    by_ticket = clocks_by_ticket(events, config, now)  # evaluate_ticket, one ticket at a time
    per_ticket_s = time.perf_counter() - started
    per_ticket = ClockTable.from_clocks(c for clocks in by_ticket.values() for c in clocks)
    started = time.perf_counter()
    batch = evaluate_batch(columns, config, now)
    sample_batch_s = time.perf_counter() - started
    same = len(per_ticket) == len(batch) and bool(
        np.array_equal(
            np.sort(per_ticket.numbers["business_elapsed_s"]),
            np.sort(batch.numbers["business_elapsed_s"]),
        )
    )
    print(
        f"  per-ticket path on {sample:,} tickets: {per_ticket_s:.2f} s -> "
        f"{sample / per_ticket_s:,.0f} tickets/s"
    )
    print(
        f"  batch engine on the same tickets: {sample_batch_s:.2f} s -> "
        f"{sample / sample_batch_s:,.0f} tickets/s ({per_ticket_s / sample_batch_s:.0f}x); "
        f"same clocks: {same}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--sample", type=int, default=20_000, help="tickets for the per-ticket path"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--quick", action="store_true", help="one run each, small sample")
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.sample = 1, min(args.sample, 2_000)
    print(
        f"duly clock benchmark: {args.tickets:,} tickets, seed {args.seed}, "
        f"median of {args.repeat}; python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )
    paths = _files(args.tickets, args.seed, args.workdir)
    summary = []
    for kind, path in paths.items():
        seconds, peak, cpu = _report(path, args.repeat)
        print(
            f"duly report compliance from {kind}: {seconds:.1f} s, peak {peak:,.0f} MB "
            f"(CPU time {cpu:.1f} s)"
        )
        summary.append(f"{kind}: {seconds:.1f} s, {peak:,.0f} MB")
    print("engine, in one process (Parquet):")
    _engine(paths["parquet"], args.sample, args.repeat)
    print(f"summary: {args.tickets:,} tickets -> " + "; ".join(summary))
    print(f"command: python benchmarks/clocks_bench.py {' '.join(sys.argv[1:])}".rstrip())


if __name__ == "__main__":
    main()
