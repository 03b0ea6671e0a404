"""Sample-quality metrics: Frechet distance and KID in the features of any extractor.

A feature extractor is a callable mapping images, float (N, H, W, C) in [-1, 1], to features (N, F);
FID is the Frechet distance in the Inception pool features, the classifier Frechet distance the
same in the features of the Fashion-MNIST classifier the pipeline trains itself.
"""

from typing import Callable

import numpy as np

FeatureFn = Callable[[np.ndarray], np.ndarray]


def batched(fn, params, x: np.ndarray, batch: int) -> np.ndarray:
    """fn(params, x) over batches of min(batch, N), the last one zero-padded, so a jitted fn compiles once."""
    batch = min(batch, len(x))
    outputs = []
    for start in range(0, len(x), batch):
        chunk = x[start:start + batch]
        padded = np.concatenate([chunk, np.zeros((batch - len(chunk),) + chunk.shape[1:], chunk.dtype)])
        outputs.append(np.asarray(fn(params, padded))[: len(chunk)])
    return np.concatenate(outputs)


def feature_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (F,) and sample covariance (F, F) of features (N, F), in float64."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"features must be (N >= 2, F), got shape {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def _psd_eigh(matrix: np.ndarray, name: str, rtol: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues and eigenvectors of a symmetric PSD matrix.

    Eigenvalues within rounding of zero (F eps of the largest) are set to zero, so that their square
    roots add no sqrt(eps) error; negative ones beyond rtol of the largest mean it is not a covariance.
    """
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    scale = max(float(np.abs(values).max(initial=0.0)), np.finfo(np.float64).tiny)
    if values.min(initial=0.0) < -rtol * scale:
        raise ValueError(f"{name} is not positive semi-definite (eigenvalue {values.min():.3e}, largest {scale:.3e})")
    values[values < len(values) * np.finfo(np.float64).eps * scale] = 0.0
    return values, vectors


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2).

    ||mu1 - mu2||^2 + tr(sigma1) + tr(sigma2) - 2 tr((sigma1 sigma2)^(1/2)); the trace of the square
    root is taken as that of the symmetric PSD matrix s1^(1/2) sigma2 s1^(1/2) (same eigenvalues),
    so no complex parts arise and singular covariances (N < F) stay well defined; a sigma2 that is
    not PSD shows as a negative eigenvalue of that product.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise ValueError(f"shape mismatch: mu {mu1.shape}, {mu2.shape}; sigma {sigma1.shape}, {sigma2.shape}")
    values1, vectors1 = _psd_eigh(sigma1, "sigma1")
    root1 = (vectors1 * np.sqrt(values1)) @ vectors1.T
    product, _ = _psd_eigh(root1 @ sigma2 @ root1, "sigma1^(1/2) sigma2 sigma1^(1/2)")
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.sqrt(product).sum())


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 with the cubic polynomial kernel k(a, b) = (a.b / F + 1)^3."""
    m, dim = x.shape
    k_xx = (x @ x.T / dim + 1.0) ** 3
    k_yy = (y @ y.T / dim + 1.0) ** 3
    k_xy = (x @ y.T / dim + 1.0) ** 3
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(within - 2.0 * k_xy.sum() / (m * m))


def kid(
    features_a: np.ndarray,
    features_b: np.ndarray,
    n_subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """Kernel Inception Distance (Binkowski et al. 2018): mean and std of the unbiased MMD^2 over subsets.

    Each subset draws min(subset_size, N_a, N_b) samples without replacement from each set.
    """
    a = np.asarray(features_a, dtype=np.float64)
    b = np.asarray(features_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"features must be (N, F) with equal F, got {a.shape} and {b.shape}")
    m = min(subset_size, len(a), len(b))
    if m < 2:
        raise ValueError(f"KID needs at least 2 samples per set, got {len(a)} and {len(b)}")
    rng = np.random.default_rng(seed)
    values = [
        _mmd2_unbiased(a[rng.choice(len(a), m, replace=False)], b[rng.choice(len(b), m, replace=False)])
        for _ in range(n_subsets)
    ]
    return float(np.mean(values)), float(np.std(values))


def evaluate_samples(
    real_images: np.ndarray,
    fake_images: np.ndarray,
    feature_fns: dict[str, FeatureFn],
    n_subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """Frechet distance and KID of fake against real images in the features of each extractor.

    Images are float (N, H, W, C) in [-1, 1]. Returns {extractor name: {frechet_distance, kid_mean,
    kid_std, n_real, n_fake, feature_dim}}; `pandas.DataFrame.from_dict(result, orient="index")`
    makes it a table.
    """
    for name, images in (("real_images", real_images), ("fake_images", fake_images)):
        if np.ndim(images) != 4:
            raise ValueError(f"{name} must be (N, H, W, C), got shape {np.shape(images)}")
    results = {}
    for name, feature_fn in feature_fns.items():
        real = np.asarray(feature_fn(real_images), dtype=np.float64)
        fake = np.asarray(feature_fn(fake_images), dtype=np.float64)
        kid_mean, kid_std = kid(real, fake, n_subsets, subset_size, seed)
        results[name] = {
            "frechet_distance": frechet_distance(*feature_stats(real), *feature_stats(fake)),
            "kid_mean": kid_mean,
            "kid_std": kid_std,
            "n_real": len(real),
            "n_fake": len(fake),
            "feature_dim": real.shape[1],
        }
    return results
