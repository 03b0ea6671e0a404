"""Frechet distance, KID and evaluate_samples against closed forms and simple cases."""

import numpy as np
import pytest
import scipy.linalg

from system.metrics import evaluate_samples, feature_stats, frechet_distance, kid


def _closed_form(mu1, mu2, s1, s2):
    """Frechet distance of Gaussians whose covariances share eigenvectors (eigenvalues s1, s2)."""
    return np.sum((mu1 - mu2) ** 2) + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2))


def test_frechet_distance_diagonal_matches_closed_form():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=8), rng.normal(size=8)
    s1, s2 = rng.uniform(0.1, 3.0, 8), rng.uniform(0.1, 3.0, 8)
    got = frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2))
    assert got == pytest.approx(_closed_form(mu1, mu2, s1, s2), rel=1e-6)


def test_frechet_distance_commuting_nondiagonal_matches_closed_form():
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.normal(size=(16, 16)))
    mu1, mu2 = rng.normal(size=16), rng.normal(size=16)
    s1, s2 = rng.uniform(0.01, 5.0, 16), rng.uniform(0.01, 5.0, 16)
    sigma1, sigma2 = (q * s1) @ q.T, (q * s2) @ q.T
    got = frechet_distance(mu1, sigma1, mu2, sigma2)
    assert got == pytest.approx(_closed_form(mu1, mu2, s1, s2), rel=1e-6)


def test_frechet_distance_general_matches_scipy_sqrtm():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(10, 10)), rng.normal(size=(10, 10))
    sigma1, sigma2 = a @ a.T + 0.1 * np.eye(10), b @ b.T + 0.1 * np.eye(10)
    mu1, mu2 = rng.normal(size=10), rng.normal(size=10)
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2).real
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(sigma1 + sigma2 - 2 * covmean)
    assert frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, rel=1e-6)


def test_frechet_distance_of_a_set_with_itself_is_zero_even_when_singular():
    rng = np.random.default_rng(3)
    features = rng.normal(size=(20, 32))  # fewer samples than dimensions: singular covariance
    mu, sigma = feature_stats(features)
    assert abs(frechet_distance(mu, sigma, mu, sigma)) < 1e-8 * np.trace(sigma)


def test_frechet_distance_rejects_non_psd_and_mismatched_shapes():
    with pytest.raises(ValueError, match="positive semi-definite"):
        frechet_distance(np.zeros(2), np.diag([1.0, -1.0]), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="positive semi-definite"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.diag([1.0, -1.0]))
    with pytest.raises(ValueError, match="shape"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))


def test_feature_stats_mean_and_unbiased_covariance():
    features = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 8.0]])
    mu, sigma = feature_stats(features)
    np.testing.assert_allclose(mu, [2.0, 4.0])
    np.testing.assert_allclose(sigma, np.cov(features.T))


def test_kid_near_zero_for_same_distribution_and_larger_for_shifted():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(400, 16)), rng.normal(size=(400, 16))
    same_mean, same_std = kid(a, b, n_subsets=20, subset_size=200, seed=0)
    shifted_mean, _ = kid(a, b + 1.0, n_subsets=20, subset_size=200, seed=0)
    assert abs(same_mean) < 3 * same_std + 1e-3
    assert shifted_mean > 10 * max(abs(same_mean), same_std)


def test_kid_is_exactly_zero_for_a_single_repeated_point_and_seeded():
    a = np.ones((50, 4))
    assert kid(a, a, n_subsets=3, subset_size=10)[0] == pytest.approx(0.0, abs=1e-12)
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(60, 4)), rng.normal(size=(60, 4))
    assert kid(x, y, n_subsets=5, subset_size=30, seed=7) == kid(x, y, n_subsets=5, subset_size=30, seed=7)


def test_evaluate_samples_reports_each_extractor():
    rng = np.random.default_rng(6)
    real = np.tanh(rng.normal(size=(64, 8, 8, 1)))
    fake = np.tanh(rng.normal(0.5, 1.0, size=(64, 8, 8, 1)))
    fns = {"pixels": lambda x: x.reshape(len(x), -1), "mean": lambda x: x.mean(axis=(1, 2))}
    results = evaluate_samples(real, fake, fns, n_subsets=5, subset_size=32)
    assert set(results) == {"pixels", "mean"}
    assert results["pixels"]["feature_dim"] == 64 and results["mean"]["feature_dim"] == 1
    assert results["mean"]["n_real"] == 64 and results["mean"]["n_fake"] == 64
    assert results["pixels"]["frechet_distance"] > 0 and results["pixels"]["kid_mean"] > 0
    self_results = evaluate_samples(real, real, fns, n_subsets=5, subset_size=32)
    assert self_results["pixels"]["frechet_distance"] < 1e-8
