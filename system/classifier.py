"""Fashion-MNIST CNN classifier whose penultimate features give the classifier Frechet distance.

Plain functional JAX: params are a dict of dicts of arrays. Architecture: conv 3x3x32 - ReLU -
maxpool 2 - conv 3x3x64 - ReLU - maxpool 2 - dense 128 - ReLU (the features) - dense 10.
"""

import pickle
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm import tqdm

from pipeline.io import write_pickle
from system.metrics import batched

N_CLASSES = 10
FEATURE_DIM = 128
EVAL_BATCH = 1000


def init_params(key: jax.Array) -> dict:
    """He-normal weights, zero biases."""
    shapes = {
        "conv1": (3, 3, 1, 32),
        "conv2": (3, 3, 32, 64),
        "dense": (7 * 7 * 64, FEATURE_DIM),
        "out": (FEATURE_DIM, N_CLASSES),
    }
    params = {}
    for (name, shape), layer_key in zip(shapes.items(), jax.random.split(key, len(shapes))):
        fan_in = int(np.prod(shape[:-1]))
        weight = jax.random.normal(layer_key, shape) * np.sqrt(2.0 / fan_in)
        params[name] = {"w": weight, "b": jnp.zeros(shape[-1])}
    return params


def _conv_relu_pool(x: jax.Array, layer: dict) -> jax.Array:
    x = jax.lax.conv_general_dilated(x, layer["w"], (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    x = jax.nn.relu(x + layer["b"])
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")


def _features(params: dict, x: jax.Array) -> jax.Array:
    """Penultimate (post-ReLU) features of images (N, 28, 28, 1) in [-1, 1]."""
    x = _conv_relu_pool(x, params["conv1"])
    x = _conv_relu_pool(x, params["conv2"])
    return jax.nn.relu(x.reshape(len(x), -1) @ params["dense"]["w"] + params["dense"]["b"])


def _logits(params: dict, x: jax.Array) -> jax.Array:
    return _features(params, x) @ params["out"]["w"] + params["out"]["b"]


_features_jit = jax.jit(_features)
_logits_jit = jax.jit(_logits)


def _as_input(images: np.ndarray) -> np.ndarray:
    """Float images (N, 28, 28[, 1]) in [-1, 1] as float32 (N, 28, 28, 1)."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:
        images = images[..., None]
    if images.shape[1:] != (28, 28, 1):
        raise ValueError(f"expected images (N, 28, 28) or (N, 28, 28, 1), got {images.shape}")
    return images


LUMA_BT601 = (0.299, 0.587, 0.114)  # weights of R, G, B in the luma of ITU-R BT.601


def as_classifier_input(images: np.ndarray, chunk: int = 1000) -> np.ndarray:
    """Images of another dataset (N, H, W, C), C in {1, 3}, in [-1, 1], as the classifier's input
    (N, 28, 28, 1): the BT.601 luma of RGB, then an antialiased linear resize to 28 x 28."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"expected images (N, H, W, 1 or 3), got {images.shape}")
    luma = images @ np.asarray(LUMA_BT601, np.float32)[:, None] if images.shape[-1] == 3 else images
    return np.concatenate([np.asarray(_resize_28(luma[i:i + chunk])) for i in range(0, len(luma), chunk)])


@jax.jit
def _resize_28(x: jax.Array) -> jax.Array:
    return jax.image.resize(x, (x.shape[0], 28, 28, 1), "linear", antialias=True)


def _uint8_to_unit(images: np.ndarray) -> np.ndarray:
    return np.asarray(images, dtype=np.float32) / 127.5 - 1.0


def classifier_features(params: dict, images: np.ndarray) -> np.ndarray:
    """Penultimate-layer features (N, 128) of float images (N, 28, 28[, 1]) in [-1, 1]."""
    return batched(_features_jit, params, _as_input(images), EVAL_BATCH)


def dataset_features(params: dict, images: np.ndarray) -> np.ndarray:
    """Features (N, 128) of float images (N, H, W, C) in [-1, 1] of either dataset: Fashion-MNIST's
    28 x 28 x 1 as they are, any other shape through ``as_classifier_input`` (Anime Face's FID substitute)."""
    images = np.asarray(images)
    return classifier_features(params, images if images.shape[1:] == (28, 28, 1) else as_classifier_input(images))


def accuracy(params: dict, images: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of uint8 images (N, 28, 28) classified as their labels."""
    logits = batched(_logits_jit, params, _as_input(_uint8_to_unit(images)), EVAL_BATCH)
    return float(np.mean(logits.argmax(axis=1) == np.asarray(labels)))


def save_params(params: dict, path: Path) -> None:
    """Pickle params as numpy arrays, atomically (temporary file in the same folder, then rename)."""
    write_pickle(path, jax.tree.map(np.asarray, params))


def load_classifier(path: Path) -> dict:
    """Params saved by train_classifier."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"classifier params not found at {path}: run train_classifier first")
    with open(path, "rb") as f:
        return pickle.load(f)


def train_classifier(
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    epochs: int,
    seed: int,
    out_path: Path,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
) -> dict:
    """Train with Adam (cosine-decayed learning rate) on uint8 images (N, 28, 28), save params to out_path.

    Returns dict(accuracy (on the test set), epochs, n_train, n_test, train_seconds).
    """
    x_train = _as_input(_uint8_to_unit(train_images))
    y_train = np.asarray(train_labels, dtype=np.int32)
    if len(x_train) != len(y_train) or len(x_train) < batch_size:
        raise ValueError(f"{len(x_train)} training images, {len(y_train)} labels, batch size {batch_size}")
    steps_per_epoch = len(x_train) // batch_size
    params = init_params(jax.random.PRNGKey(seed))
    optimizer = optax.adam(optax.cosine_decay_schedule(learning_rate, max(epochs * steps_per_epoch, 1)))
    opt_state = optimizer.init(params)

    @jax.jit
    def step(params, opt_state, x, y):
        loss, grads = jax.value_and_grad(
            lambda p: optax.softmax_cross_entropy_with_integer_labels(_logits(p, x), y).mean()
        )(params)
        updates, opt_state = optimizer.update(grads, opt_state)
        return optax.apply_updates(params, updates), opt_state, loss

    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    with tqdm(total=epochs * steps_per_epoch, desc="classifier", unit="step") as bar:
        for epoch in range(epochs):
            order = rng.permutation(len(x_train))
            for i in range(steps_per_epoch):
                idx = order[i * batch_size:(i + 1) * batch_size]
                params, opt_state, loss = step(params, opt_state, x_train[idx], y_train[idx])
                bar.update()
            bar.set_postfix(epoch=epoch + 1, loss=f"{float(loss):.3f}")
    train_seconds = time.perf_counter() - start
    save_params(params, out_path)
    return {
        "accuracy": accuracy(params, test_images, test_labels),
        "epochs": epochs,
        "n_train": len(x_train),
        "n_test": len(test_images),
        "train_seconds": train_seconds,
    }
