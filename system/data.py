"""Dataset loaders: Fashion-MNIST (IDX .gz files) and Anime Face (zip or folder of JPEGs).

Both read from a data directory given in the config (`data_dir`), laid out as
`<data_dir>/fashion-mnist/*.gz` and `<data_dir>/anime-faces-64/` (a folder of JPEGs or a zip of them).
Images come back as uint8 arrays, (N, 28, 28) for Fashion-MNIST and (N, 64, 64, 3) for Anime Face.
"""

import gzip
import hashlib
import io
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.io import atomic_path

FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
FASHION_MNIST_MD5 = {  # published with the dataset (github.com/zalandoresearch/fashion-mnist)
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
ANIME_FACES_DIR = "anime-faces-64"
ANIME_FACES_SOURCE = "https://www.kaggle.com/datasets/splcher/animefacedataset (research use only)"


class DataError(Exception):
    """A dataset is missing, corrupt or cannot be fetched; the message says which file and what to do."""


def md5(path: Path) -> str:
    """MD5 hex digest of a file."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(url: str, dest: Path, expected_md5: str) -> None:
    """Fetch url to dest atomically, checking its MD5 before the file appears under its name."""
    try:
        with atomic_path(dest) as tmp, urllib.request.urlopen(url, timeout=60) as response:
            tmp.write_bytes(response.read())
            if md5(tmp) != expected_md5:
                raise DataError(f"{url}: downloaded file fails its MD5 check")
    except OSError as error:
        raise DataError(
            f"{dest} is missing and could not be downloaded from {url} ({error}); "
            f"put the Fashion-MNIST .gz files into {dest.parent} or set data_dir"
        ) from error


def fashion_mnist_files(data_dir: Path, download: bool = False) -> dict[str, Path]:
    """The four Fashion-MNIST files under data_dir/fashion-mnist, checked against the published MD5 sums.

    Missing files are downloaded from the official source when `download` is true.
    """
    folder = Path(data_dir) / "fashion-mnist"
    files = {}
    for name, expected in FASHION_MNIST_MD5.items():
        path = folder / name
        if not path.exists():
            if not download:
                raise DataError(f"{path} is missing (point data_dir at a copy, or add --config download=true)")
            _download(FASHION_MNIST_URL + name, path, expected)
        if md5(path) != expected:
            raise DataError(f"{path} fails its MD5 check (expected {expected}): replace the file")
        files[name] = path
    return files


def _read_idx(path: Path) -> np.ndarray:
    """Array stored in an IDX (.gz) file of unsigned bytes."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise DataError(f"{path} is not an IDX file of unsigned bytes")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_fashion_mnist(data_dir: Path, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST images, uint8 (N, 28, 28), and labels, uint8 (N,), for split 'train' or 'test'."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    files = fashion_mnist_files(data_dir)
    prefix = "train" if split == "train" else "t10k"
    images = _read_idx(files[f"{prefix}-images-idx3-ubyte.gz"])
    labels = _read_idx(files[f"{prefix}-labels-idx1-ubyte.gz"])
    if len(images) != len(labels):
        raise DataError(f"Fashion-MNIST {split}: {len(images)} images but {len(labels)} labels")
    return images, labels


def _decode_rgb64(data: bytes, name: str) -> np.ndarray:
    """One JPEG as uint8 (64, 64, 3), resized when it is not 64x64."""
    try:
        image = Image.open(io.BytesIO(data)).convert("RGB")
    except OSError as error:
        raise DataError(f"{name}: not a readable image ({error})") from error
    if image.size != (64, 64):
        image = image.resize((64, 64), Image.BICUBIC)
    return np.asarray(image, dtype=np.uint8)


def _anime_faces_sources(data_dir: Path) -> tuple[list[Path], Path | None, list[str]]:
    """(JPEG files in name order, or else the first zip and its JPEG entries in name order)."""
    folder = Path(data_dir) / ANIME_FACES_DIR
    if not folder.is_dir():
        raise DataError(f"{folder} does not exist; the Anime Face dataset cannot be downloaded automatically: "
                        f"get it from {ANIME_FACES_SOURCE} and unpack or copy it there")
    jpegs = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg"))
    if jpegs:
        return jpegs, None, []
    for archive_path in sorted(folder.glob("*.zip")):
        with zipfile.ZipFile(archive_path) as archive:
            names = sorted(n for n in archive.namelist() if n.lower().endswith((".jpg", ".jpeg")))
        if names:
            return [], archive_path, names
    raise DataError(f"{folder} holds no JPEGs and no zip of them; get the Anime Face dataset from "
                    f"{ANIME_FACES_SOURCE} and unpack or copy it there")


def count_anime_faces(data_dir: Path) -> int:
    """Number of Anime Face images under data_dir/anime-faces-64/ (JPEG folder or zip), without decoding them."""
    jpegs, _, names = _anime_faces_sources(data_dir)
    return len(jpegs) or len(names)


def load_anime_faces(data_dir: Path, limit: int = 0) -> np.ndarray:
    """Anime Face images, uint8 (N, 64, 64, 3), from data_dir/anime-faces-64/ (JPEG folder or zip).

    `limit` > 0 reads only the first `limit` images in name order.
    """
    jpegs, archive_path, names = _anime_faces_sources(data_dir)
    if jpegs:
        chosen = jpegs[:limit] if limit > 0 else jpegs
        return np.stack([_decode_rgb64(p.read_bytes(), str(p)) for p in chosen])
    chosen = names[:limit] if limit > 0 else names
    with zipfile.ZipFile(archive_path) as archive:
        return np.stack([_decode_rgb64(archive.read(n), f"{archive_path}:{n}") for n in chosen])


def load_images(dataset: str, data_dir: Path, limit: int = 0) -> np.ndarray:
    """Training images of a dataset by config name ('fashion_mnist' or 'anime_faces'), uint8 (N, H, W[, C])."""
    if dataset == "fashion_mnist":
        images, _ = load_fashion_mnist(data_dir, "train")
        return images[:limit] if limit > 0 else images
    if dataset == "anime_faces":
        return load_anime_faces(data_dir, limit)
    raise ValueError(f"unknown dataset {dataset!r}: expected 'fashion_mnist' or 'anime_faces'")


def reference_images(dataset: str, data_dir: Path, n: int) -> np.ndarray:
    """The n real images a DCGAN's samples are scored against, float32 (n, H, W, C) in [-1, 1]: Fashion-MNIST's
    test split, Anime Face's last n images (no test split)."""
    if dataset == "fashion_mnist":
        images = load_fashion_mnist(data_dir, "test")[0][:n]
    else:
        images = load_images(dataset, data_dir)[-n:]
    images = images.astype(np.float32) / 127.5 - 1.0
    return images[..., None] if images.ndim == 3 else images
