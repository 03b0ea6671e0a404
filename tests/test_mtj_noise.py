"""Random bits of VCMA MTJs to Gaussian noise (system/mtj_noise.py): the NIST tests against their worked examples,
von Neumann's correction, and the samples' statistics with and without it."""
import numpy as np
import pytest

from system import mtj_noise


def bits_of(text):
    return np.array([int(c) for c in text], dtype=np.uint8)


def test_nist_tests_reproduce_the_worked_examples():
    # NIST SP 800-22 Rev. 1a, 2.1.8 and 2.3.8
    assert mtj_noise.frequency_test(bits_of("1011010101")) == pytest.approx(0.527089, abs=1e-6)
    assert mtj_noise.runs_test(bits_of("1001101011")) == pytest.approx(0.147232, abs=1e-6)


def test_von_neumann_removes_the_bias_of_independent_bits():
    rng = np.random.default_rng(0)
    bank = mtj_noise.BitBank(p=np.array([0.2, 0.5, 0.85]), energy_per_bit_J=1e-15)
    raw = bank.raw_bits(rng, 400_000)
    out = mtj_noise.von_neumann(raw)
    expected = 400_000 / 2 * 2 * np.sum(bank.p * (1 - bank.p))   # pairs per device x P(pair differs)
    assert len(out) == pytest.approx(expected, rel=0.01)
    assert abs(out.mean() - 0.5) < 3 * 0.5 / np.sqrt(len(out))
    bits, spent = bank.corrected_bits(rng, 100_000)
    assert len(bits) == 100_000 and spent >= 100_000 / np.mean(bank.p * (1 - bank.p)) * 0.95


def test_device_bias_fails_the_nist_tests_and_the_correction_passes_them():
    """A bank like the stage's (P_sw spread over 0.15-0.8 between devices): the raw stream fails the frequency test,
    the corrected stream passes frequency and runs; the Gaussian samples pass against N(0, 1) only when corrected."""
    rng = np.random.default_rng(1)
    bank = mtj_noise.BitBank(p=np.linspace(0.15, 0.8, 16), energy_per_bit_J=1e-15)
    raw = bank.raw_bits(rng, 20_000).ravel()
    assert not mtj_noise.bit_statistics(raw)["frequency_pass"]
    fair, _ = bank.corrected_bits(rng, 24 * 20_000)
    stats = mtj_noise.bit_statistics(fair)
    assert stats["frequency_pass"] and stats["runs_pass"], stats
    good = mtj_noise.gaussian_statistics(mtj_noise.gaussians(fair))
    assert good["gaussian_pass"] and good["lag1_corr_pass"], good
    biased = mtj_noise.gaussian_statistics(mtj_noise.gaussians(bank.raw_bits(rng, 30_000).T.ravel()))
    assert not biased["gaussian_pass"]


def test_gaussians_from_fair_bits_are_standard_normal():
    rng = np.random.default_rng(2)
    z = mtj_noise.gaussians(rng.integers(0, 2, 24 * 50_000, dtype=np.uint8))
    result = mtj_noise.gaussian_statistics(z)
    assert result["gaussian_pass"] and abs(result["mean"]) < 0.02 and abs(result["std"] - 1) < 0.02
    shifted = mtj_noise.gaussian_statistics(z + 0.05)
    assert not shifted["gaussian_pass"]


def test_source_statistics_energy_follows_the_bits_spent():
    p = np.linspace(0.2, 0.7, 8)
    result, z = mtj_noise.source_statistics(p, 5e-15, 20_000, seed=0)
    assert len(z["raw"]) == len(z["corrected"]) == 20_000
    assert result["raw_bits_per_corrected_bit"] == pytest.approx(1 / np.mean(p * (1 - p)), rel=0.02)
    assert result["energy_per_sample_J"]["corrected"] == pytest.approx(
        24 * 5e-15 * result["raw_bits_per_corrected_bit"], rel=1e-12)
    assert result["bits"]["raw"]["ones_fraction"] == pytest.approx(p.mean(), abs=0.005)  # the bias the devices predict
    assert result["samples"]["corrected"]["gaussian_pass"] and not result["samples"]["raw"]["gaussian_pass"]
