"""Generated company lists for the benchmarks: realistic shapes, reproducible by seed."""

from __future__ import annotations

import csv
import fcntl
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HEADERS = [
    "Company name",
    "Website",
    "Industry",
    "Number of Employees",
    "Annual Revenue",
    "Country/Region",
    "City",
    "Phone Number",
    "Founded",
]
INDUSTRIES = [
    "Software",
    "Logistics",
    "Manufacturing",
    "Retail",
    "Healthcare",
    "Finance",
    "Construction",
    "Education",
    "Energy",
    "Hospitality",
    "Media",
    "Agriculture",
]
COUNTRIES = [
    ("Germany", "Berlin"),
    ("United Kingdom", "London"),
    ("France", "Lyon"),
    ("United States", "Austin"),
    ("Netherlands", "Utrecht"),
    ("Sweden", "Malmö"),
]
PARTS = [
    "North",
    "Blue",
    "Peak",
    "River",
    "Stone",
    "Bright",
    "Iron",
    "Silver",
    "Oak",
    "Nova",
    "Alpine",
    "Harbor",
    "Summit",
    "Cedar",
    "Falcon",
    "Meadow",
]


def company_rows(count: int, seed: int = 1) -> list[list[str]]:
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        name = f"{rng.choice(PARTS)}{rng.choice(PARTS).lower()} {n}"
        country, city = rng.choice(COUNTRIES)
        employees = rng.choice(
            [
                f"{rng.randint(1, 999)}",
                f"{rng.randint(1, 9)},{rng.randint(100, 999)}",
                "51-200",
                "11-50",
            ]
        )
        revenue = rng.choice([f"${rng.randint(1, 90)}M", f"{rng.randint(100, 999)} 000", ""])
        rows.append(
            [
                name,
                f"https://www.{name.replace(' ', '-').lower()}.com",
                rng.choice(INDUSTRIES),
                employees,
                revenue,
                country,
                city,
                f"+1 555 {n % 10000:04d}",
                str(rng.randint(1950, 2022)),
            ]
        )
    return rows


def write_csv(path: Path, count: int, seed: int = 1) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        writer.writerows(company_rows(count, seed))
    return path


def bench_out() -> Path:
    """Where built workspaces are kept: ``ACCORD_BENCH_OUT``, or bench/out/, so that several
    checkouts can share one copy."""
    folder = Path(os.environ.get("ACCORD_BENCH_OUT") or Path(__file__).resolve().parent / "out")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def building(name: str) -> Iterator[Path]:
    """The path of a cached workspace, held under a lock while it is being built, so that a
    second builder waits for the first instead of building it again."""
    with (bench_out() / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield bench_out() / f"{name}.sqlite"


def demo_workspace(accounts: int) -> Path:
    """A demo workspace with ``accounts`` accounts under :func:`bench_out`, built once per
    size and reused (a million takes several minutes)."""
    import time

    from storage.demo.build import build_demo
    from storage.workspace import open_workspace

    with building(f"accounts-{accounts}") as path:
        if path.exists():
            return path
        start = time.perf_counter()
        partial = path.with_suffix(".partial")  # an interrupted build is never reused
        partial.unlink(missing_ok=True)
        workspace = open_workspace(partial)
        build_demo(workspace, accounts=accounts, seed=1, owner_name="Bench")
        workspace.close()
        partial.rename(path)
        print(f"built {accounts:,} accounts in {time.perf_counter() - start:.0f} s")
    return path
