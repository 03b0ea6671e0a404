"""Atomic file output: every file is written under a temporary name in its own folder, then renamed.

os.replace within one folder is atomic, so a reader (or an interrupted run) sees either the old
file or the complete new one, never a partial write.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary Path beside path (same suffix); on success rename it to path, else delete it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _plain(value):
    """JSON encoder fallback: numpy scalars and arrays, Paths."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def _finite(value):
    """Replace NaN and infinities (not JSON) by None, recursively."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def write_json(path, obj) -> None:
    """Strict JSON: NaN and infinities are written as null."""
    text = json.dumps(json.loads(json.dumps(obj, default=_plain)), allow_nan=True)  # numpy -> plain
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(_finite(json.loads(text)), indent=2, allow_nan=False) + "\n")


def write_csv(path, frame: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def write_parquet(path, frame: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


def write_npz(path, **arrays) -> None:
    """Compressed .npz (path must end in .npz)."""
    with atomic_path(path) as tmp:
        np.savez_compressed(tmp, **arrays)


def save_figure(path, fig) -> None:
    """Save a matplotlib figure (format from the suffix of path) and close it."""
    import matplotlib.pyplot as plt
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=Path(path).suffix.lstrip("."), dpi=120, bbox_inches="tight")
    finally:
        plt.close(fig)
