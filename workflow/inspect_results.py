"""Print a results table in the terminal: `python workflow/inspect_results.py [NAME_OR_PATH] [--all]`.

With no argument, lists the tables under results/. NAME is a table name (synapse_levels, activation_transfer,
summary, energy, ...) or a path to a .csv/.parquet file; where several runs have a table of that name (energy:
one per run), the first with rows is printed and the others are listed. Numbers print with 4 significant
digits; the table's JSON sidecar (units, fitted parameters, provenance) is printed after it when there is one.
A device table (pipeline.table_contract) is read and checked through the contract, so a broken one is
reported with the file and column at fault.
"""

import argparse
import json
import signal
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pipeline.table_contract import TABLES, TableError, read_table  # noqa: E402

RESULTS = Path(__file__).resolve().parent.parent / "results"


def find(name: str) -> list[Path]:
    """The table files for a name or path: an exact path, else every results/**/NAME.parquet, else .csv."""
    path = Path(name)
    if path.is_file():
        return [path]
    for suffix in (".parquet", ".csv"):
        hits = sorted(RESULTS.rglob(f"{path.stem}{suffix}"))
        if hits:
            return hits
    raise FileNotFoundError(f"no table {name!r} under {RESULTS} (run without arguments to list them)")


def read(path: Path) -> pd.DataFrame:
    """A table file; a device table through the contract (TableError naming the file and column at fault)."""
    if path.stem in TABLES and path.with_suffix(".json").is_file():
        return read_table(path.parent, path.stem)[0]
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table", nargs="?", help="table name or path")
    parser.add_argument("--all", action="store_true", help="print every row (default: head and tail)")
    args = parser.parse_args(argv)
    if args.table is None:
        for path in sorted(RESULTS.rglob("*.csv")):
            print(path.relative_to(RESULTS.parent))
        return 0
    try:
        paths = find(args.table)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    try:
        frames = {path: read(path) for path in paths}
    except TableError as error:
        print(error, file=sys.stderr)
        return 1
    path = next((p for p, frame in frames.items() if len(frame)), paths[0])  # the first table with rows
    for other in paths:
        if other != path:
            rows = len(frames[other])
            print(f"also {other}" + (f" ({rows} rows)" if rows else
                                     " (no rows: for energy.csv, only the hardware variant has a device energy model)"))
    frame = frames[path]
    sidecar = path.with_suffix(".json")
    with pd.option_context("display.max_rows", None if args.all else 20, "display.width", 200,
                           "display.max_columns", None, "display.float_format", lambda v: f"{v:.4g}"):
        print(f"{path}  ({len(frame)} rows)")
        print(frame)
    if sidecar.is_file():
        print(f"\n{sidecar}:")
        print(json.dumps(json.loads(sidecar.read_text()), indent=2))
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `... | head` ends quietly
    sys.exit(main())
