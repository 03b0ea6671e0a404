"""pipeline.io: atomic writes, one file mode, strict JSON."""

import json
import math
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline import io


def test_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "table.csv"
    io.write_csv(target, pd.DataFrame({"a": [1]}))
    with pytest.raises(RuntimeError):
        with io.atomic_path(target) as tmp:
            tmp.write_text("half a tab")
            raise RuntimeError("interrupted")
    assert pd.read_csv(target)["a"].tolist() == [1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]
    with pytest.raises(RuntimeError):
        with io.atomic_path(tmp_path / "new.json"):
            raise RuntimeError("interrupted")
    assert not (tmp_path / "new.json").exists()


def test_every_writer_gives_mode_644_and_a_readable_file(tmp_path):
    frame = pd.DataFrame({"a": [1.5, 2.5]})
    io.write_bytes(tmp_path / "a.bin", b"\x00\x01")
    io.write_text(tmp_path / "a.txt", "text")
    io.write_json(tmp_path / "a.json", {"x": 1})
    io.write_csv(tmp_path / "a.csv", frame)
    io.write_parquet(tmp_path / "a.parquet", frame)
    io.write_pickle(tmp_path / "a.pkl", {"x": np.arange(3)})
    io.write_npz(tmp_path / "a.npz", x=np.arange(3))
    with io.atomic_path(tmp_path / "sub" / "a.png") as tmp:
        assert tmp.suffix == ".png" and tmp.parent == tmp_path / "sub"
        tmp.write_bytes(b"png")
    written = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert len(written) == 8
    for path in written:
        assert stat.S_IMODE(os.stat(path).st_mode) == io.FILE_MODE, path
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a.parquet"), frame)
    assert np.load(tmp_path / "a.npz")["x"].tolist() == [0, 1, 2]


def test_json_writes_nan_and_infinity_as_null_and_numpy_as_numbers(tmp_path):
    path = tmp_path / "m.json"
    io.write_json(path, {"nan": float("nan"), "inf": [np.float64(math.inf), -math.inf], "n": np.int64(3),
                         "a": np.array([0.5, np.nan]), "t": (1, 2), "p": Path("x/y"), "ok": np.bool_(True)})
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"nan": None, "inf": [None, None], "n": 3, "a": [0.5, None], "t": [1, 2],
                                "p": "x/y", "ok": True}


def test_json_refuses_what_it_cannot_write(tmp_path):
    with pytest.raises(TypeError):
        io.write_json(tmp_path / "bad.json", {"x": object()})
    assert not list(tmp_path.iterdir())
