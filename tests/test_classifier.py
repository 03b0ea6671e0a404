"""Fashion-MNIST classifier: training on a small subset, atomic save and reload, features."""

import jax
import numpy as np
import pytest

from system.classifier import (
    FEATURE_DIM,
    as_classifier_input,
    classifier_features,
    dataset_features,
    init_params,
    load_classifier,
    train_classifier,
)
from system.metrics import evaluate_samples


def test_train_save_load_features_on_synthetic_data(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (256, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 256)
    out = tmp_path / "clf" / "params.pkl"
    result = train_classifier(images, labels, images[:64], labels[:64], epochs=1, seed=0, out_path=out)
    assert set(result) >= {"accuracy", "train_seconds"} and 0.0 <= result["accuracy"] <= 1.0
    assert [p.name for p in out.parent.iterdir()] == ["params.pkl"]  # no temporary file left behind
    params = load_classifier(out)
    assert all(isinstance(layer["w"], np.ndarray) for layer in params.values())
    unit = images[:5].astype(np.float32) / 127.5 - 1.0
    features = classifier_features(params, unit)
    assert features.shape == (5, FEATURE_DIM) and np.all(features >= 0)
    np.testing.assert_array_equal(classifier_features(params, unit[..., None]), features)
    train_classifier(images, labels, images[:64], labels[:64], epochs=1, seed=0, out_path=tmp_path / "again.pkl")
    np.testing.assert_array_equal(classifier_features(load_classifier(tmp_path / "again.pkl"), unit), features)


def test_classifier_rejects_wrong_shapes_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match="28, 28"):
        classifier_features({}, np.zeros((2, 32, 32, 1)))
    with pytest.raises(FileNotFoundError, match="nothing.pkl"):
        load_classifier(tmp_path / "nothing.pkl")


def test_classifier_learns_fashion_mnist_subset(tmp_path, data_dir):
    from system.data import load_fashion_mnist

    train_images, train_labels = load_fashion_mnist(data_dir, "train")
    test_images, test_labels = load_fashion_mnist(data_dir, "test")
    result = train_classifier(train_images[:2000], train_labels[:2000], test_images[:1000], test_labels[:1000],
                              epochs=1, seed=0, out_path=tmp_path / "params.pkl", batch_size=32)
    assert result["accuracy"] > 0.6  # chance is 0.1


def test_other_datasets_enter_as_28x28_luma():
    rgb = np.zeros((2, 64, 64, 3), np.float32)
    rgb[0, :, :32] = 1.0  # left half white, right half black
    rgb[0, :, 32:] = -1.0
    rgb[1] = np.array([1.0, -1.0, 0.0])  # pure red at full scale, green off, blue mid
    out = as_classifier_input(rgb)
    assert out.shape == (2, 28, 28, 1)
    np.testing.assert_allclose(out[0, :, :12, 0], 1.0, atol=1e-5)
    np.testing.assert_allclose(out[0, :, 16:, 0], -1.0, atol=1e-5)
    np.testing.assert_allclose(out[1], 0.299 - 0.587, atol=1e-5)
    with pytest.raises(ValueError, match="1 or 3"):
        as_classifier_input(np.zeros((2, 64, 64, 4)))

    params = init_params(jax.random.PRNGKey(0))
    np.testing.assert_array_equal(dataset_features(params, rgb), classifier_features(params, out))
    mnist = np.random.default_rng(0).uniform(-1, 1, (3, 28, 28, 1)).astype(np.float32)
    np.testing.assert_array_equal(dataset_features(params, mnist), classifier_features(params, mnist))  # as it is


def test_substitute_distance_grows_with_degradation(tmp_path, data_dir):
    """The Anime Face substitute (classifier features of 28x28 luma) orders noisier sets as worse:
    Fashion-MNIST test images enlarged to 64x64 RGB, against noise of growing strength."""
    import jax

    from system.data import load_fashion_mnist

    images, labels = load_fashion_mnist(data_dir, "train")
    train_classifier(images[:2000], labels[:2000], images[:200], labels[:200], epochs=1, seed=0,
                     out_path=tmp_path / "clf.pkl", batch_size=32)
    params = load_classifier(tmp_path / "clf.pkl")
    test, _ = load_fashion_mnist(data_dir, "test")
    unit = test[:1200].astype(np.float32)[..., None] / 127.5 - 1.0
    big = np.repeat(np.asarray(jax.image.resize(unit, (1200, 64, 64, 1), "linear")), 3, axis=-1)
    assert np.abs(as_classifier_input(big) - unit).mean() < 0.1  # back to 28 x 28: the same image, softened
    features = {"classifier": lambda x: classifier_features(params, as_classifier_input(x))}
    rng = np.random.default_rng(0)
    fd = [evaluate_samples(big[:600], np.clip(big[600:] + s * rng.standard_normal(big[600:].shape), -1, 1),
                           features, subset_size=300, seed=0)["classifier"]["frechet_distance"] for s in (0.0, 0.3, 1.0)]
    assert fd[0] < fd[1] < fd[2], fd
