"""Fashion-MNIST classifier: training on a small subset, atomic save and reload, features."""

import numpy as np
import pytest

from system.classifier import FEATURE_DIM, classifier_features, load_classifier, train_classifier


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
