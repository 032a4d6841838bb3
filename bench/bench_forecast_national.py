"""National-scale forecast benchmark: synthetic register in Parquet → 36-month renewal forecast.

    .venv/bin/python bench/bench_forecast_national.py            # 124,000,000 rows
    .venv/bin/python bench/bench_forecast_national.py --rows 20000000

The register is generated once under bench/out/ (gitignored). Then, each in its own process so
peak memory is its own:

* floor — read the same Parquet columns (memory-mapped, as ours) into numpy arrays without a
  copy + one ``np.bincount`` per chunk;
* ours  — the ``madoguchi forecast`` code path: ``iter_register_chunks`` (checks every row) →
  ``build_expiry_cube`` → ``forecast_demand`` (36 months, monthly).

Targets (issue 5): ours ≤ 10 s, ≤ 3× floor, ≤ 4 GB peak RSS. The table is printed and appended
to bench/README.md with the command line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from smoke import SMOKE, size

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from madoguchi.forecasts.register_io import iter_register_chunks  # noqa: E402
from madoguchi.planning.demand import build_expiry_cube, cube_range_for, forecast_demand  # noqa: E402
from madoguchi.planning.rules import NO_DATE  # noqa: E402
from madoguchi.planning.synthetic import iter_synthetic_register  # noqa: E402

OUT = ROOT / "bench" / "out"
README = ROOT / "bench" / "README.md"
AS_OF = dt.date(2025, 3, 31)
START = dt.date(2025, 4, 1)
COLUMNS = ["person_id", "birth_date", "card_issued_on", "cert_issued_on"]
CHUNK_ROWS = 1_000_000


def register_path(rows: int, seed: int) -> Path:
    return OUT / f"register-{rows}-seed{seed}.parquet"


def _dates(days: np.ndarray) -> pa.Array:
    return pa.array(days, type=pa.int32(), mask=days == NO_DATE).cast(pa.date32())


def generate(rows: int, seed: int) -> Path:
    path = register_path(rows, seed)
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    schema = pa.schema([("person_id", pa.int64())] + [(name, pa.date32()) for name in COLUMNS[1:]])
    started = time.perf_counter()
    first = 0
    # plain, uncompressed columns: the layout a fast pipeline would choose for a scan like this
    with pq.ParquetWriter(partial, schema, compression="none", use_dictionary=False) as writer:
        for chunk in iter_synthetic_register(
            people=rows, seed=seed, as_of=AS_OF, chunk_rows=CHUNK_ROWS
        ):
            n = chunk.person_count
            table = pa.table(
                {
                    "person_id": pa.array(np.arange(first, first + n, dtype=np.int64)),
                    "birth_date": _dates(chunk.birth_day),
                    "card_issued_on": _dates(chunk.card_issued_day),
                    "cert_issued_on": _dates(chunk.cert_issued_day),
                },
                schema=schema,
            )
            writer.write_table(table)
            first += n
            print(f"\rgenerating {first:,}/{rows:,}", end="", file=sys.stderr, flush=True)
    partial.rename(path)
    print(f"\ngenerated {path} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return path


def _values(column: pa.Array, dtype: type[np.generic]) -> np.ndarray:
    """The value buffer of a primitive Arrow array as numpy, without a copy (nulls not filled)."""
    width = np.dtype(dtype).itemsize
    return np.frombuffer(
        column.buffers()[1], dtype=dtype, count=len(column), offset=column.offset * width
    )


def floor(path: Path) -> dict[str, float]:
    """Read the same columns into numpy + one bincount per chunk: the cost of touching the data.

    As tight as reading gets: the same memory-mapped Parquet reader as ours, every column viewed
    as numpy without a copy, one ``np.bincount`` over the card issue dates.
    """
    started = time.perf_counter()
    counts = np.zeros(1, dtype=np.int64)
    rows = 0
    parquet = pq.ParquetFile(path, memory_map=True)
    for batch in parquet.iter_batches(batch_size=CHUNK_ROWS, columns=COLUMNS):
        arrays = [_values(batch.column("person_id"), np.int64)]
        arrays += [_values(batch.column(name), np.int32) for name in COLUMNS[1:]]
        card = arrays[2]
        binned = np.bincount(np.maximum(card, 16_000) - 16_000)  # earlier dates → bin 0
        if len(binned) > len(counts):
            binned[: len(counts)] += counts
            counts = binned
        else:
            counts[: len(binned)] += binned
        rows += batch.num_rows
    return {"seconds": time.perf_counter() - started, "rows": rows, "check": float(counts.sum())}


def ours(path: Path, months: int) -> dict[str, float]:
    """The forecast command's path: checked chunks → expiry cube → 36-month forecast."""
    started = time.perf_counter()
    first_day, last_day = cube_range_for(START, months)
    cube = build_expiry_cube(
        iter_register_chunks(path, today=AS_OF, chunk_rows=CHUNK_ROWS),
        first_day=first_day,
        last_day=last_day,
    )
    forecast = forecast_demand(cube, start=START, months=months)
    return {
        "seconds": time.perf_counter() - started,
        "rows": cube.rows_scanned,
        "card_renewals": float(forecast.card_renewals.sum()),
        "cert_renewals": float(forecast.cert_renewals.sum()),
    }


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024  # Linux: KiB


def run_phase(phase: str, path: Path, months: int) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--path", str(path), "--months", str(months)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=size(124_000_000, 200_000))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument(
        "--repeat", type=int, default=size(2, 1), help="runs of each phase; best is kept"
    )
    parser.add_argument("--no-readme", action="store_true", help="do not append to README")
    parser.add_argument("--phase", choices=["floor", "ours"], help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        path = Path(args.path)
        result = floor(path) if args.phase == "floor" else ours(path, args.months)
        result["peak_rss_gb"] = peak_rss_gb()
        print(json.dumps(result))
        return

    path = generate(args.rows, args.seed)
    runs: dict[str, list[dict[str, float]]] = {"floor": [], "ours": []}
    for _ in range(args.repeat):
        for phase in ("floor", "ours"):
            runs[phase].append(run_phase(phase, path, args.months))
    best = {phase: min(results, key=lambda r: r["seconds"]) for phase, results in runs.items()}
    ratio = best["ours"]["seconds"] / best["floor"]["seconds"]
    size_gb = path.stat().st_size / 1e9
    ok = best["ours"]["seconds"] <= 10 and ratio <= 3 and best["ours"]["peak_rss_gb"] <= 4
    lines = [
        "| step | rows | seconds | × floor | peak RSS (GB) |",
        "|---|---:|---:|---:|---:|",
        f"| floor: read 4 columns + bincount | {best['floor']['rows']:,.0f} | "
        f"{best['floor']['seconds']:.2f} | 1.00 | {best['floor']['peak_rss_gb']:.2f} |",
        f"| ours: checked read → expiry cube → {args.months}-month forecast | "
        f"{best['ours']['rows']:,.0f} | {best['ours']['seconds']:.2f} | {ratio:.2f} | "
        f"{best['ours']['peak_rss_gb']:.2f} |",
    ]
    summary = (
        f"card renewals {best['ours']['card_renewals']:,.0f}, certificate renewals "
        f"{best['ours']['cert_renewals']:,.0f} over {args.months} months from {START:%Y-%m}; "
        f"Parquet {size_gb:.2f} GB; best of {args.repeat}; {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, numpy {np.__version__}, pyarrow {pa.__version__}. "
        f"Targets (≤ 10 s, ≤ 3× floor, ≤ 4 GB): {'met' if ok else 'NOT met'}."
    )
    table = "\n".join(lines)
    print(table)
    print(summary)
    if not (args.no_readme or SMOKE):
        command = "python bench/bench_forecast_national.py" + (
            "" if args.rows == 124_000_000 else f" --rows {args.rows}"
        )
        with README.open("a", encoding="utf-8") as readme:
            if "## National forecast" not in (
                README.read_text(encoding="utf-8") if README.exists() else ""
            ):
                readme.write(
                    "\n## National forecast (`bench/bench_forecast_national.py`)\n\n"
                    "Synthetic register (Parquet, generated once under bench/out/) → 36-month "
                    "renewal forecast through the `madoguchi forecast` code path. Floor: reading "
                    "the same columns + one `np.bincount`. Each step in its own process.\n"
                )
            readme.write(f"\n`{command}` — {dt.date.today():%Y-%m-%d}\n\n{table}\n\n{summary}\n")


if __name__ == "__main__":
    main()
