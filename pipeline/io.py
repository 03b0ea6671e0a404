"""Atomic file output, the only writer of the project's files.

Every file is written under a temporary name in its own folder, then renamed with os.replace,
which is atomic within one folder: a reader (or an interrupted run) sees either the old file or the
complete new one, never a partial write. Every written file gets mode 0o644. JSON is strict:
NaN and infinities are written as null.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

FILE_MODE = 0o644  # owner read/write, everyone else read


@contextlib.contextmanager
def atomic_path(path) -> Iterator[Path]:
    """Yield a temporary Path beside path (same suffix, so writers that go by it work); on success
    it gets FILE_MODE and is renamed to path, on error it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_bytes(path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def json_ready(value):
    """value as plain JSON data: numpy scalars and arrays as numbers and lists, tuples as lists, Paths as
    strings, NaN and infinities as None (recursively); other types are left for json to refuse."""
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path, obj) -> None:
    """Strict JSON, indented, keys in insertion order; NaN and infinities written as null."""
    write_text(path, json.dumps(json_ready(obj), indent=2, allow_nan=False) + "\n")


def write_csv(path, frame: pd.DataFrame) -> None:
    """CSV without the index."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def write_parquet(path, frame: pd.DataFrame) -> None:
    """Parquet without the index."""
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


def write_pickle(path, obj) -> None:
    write_bytes(path, pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


def write_npz(path, **arrays) -> None:
    """Compressed .npz (path must end in .npz)."""
    with atomic_path(path) as tmp:
        np.savez_compressed(tmp, **arrays)


def save_figure(path, fig) -> None:
    """Save a matplotlib figure (format from the suffix of path, 120 dpi) and close it."""
    import matplotlib.pyplot as plt
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=Path(path).suffix.lstrip("."), dpi=120, bbox_inches="tight")
    finally:
        plt.close(fig)
