"""Theorem 1's construction (paper §3, Theorem 1; Appendix A): disentangle.theory."""

import numpy as np
import pytest
from scipy import stats

from disentangle import theory

ALL = list(theory.MARGINALS)


@pytest.mark.parametrize("name", ALL)
def test_map_is_a_bijection_for_every_marginal(name):
    fmap = theory.EntanglingMap([name, "uniform", name], alpha=0.2)
    z = theory.sample_latents(fmap.marginals, 2000, np.random.default_rng(1))
    fz = fmap(z)
    assert not np.allclose(fz, z, atol=1e-3)  # f actually moves points
    np.testing.assert_allclose(fmap.inverse(fz), z, rtol=0, atol=1e-6)
    np.testing.assert_allclose(fmap(fmap.inverse(z)), z, rtol=0, atol=1e-6)


def test_bijection_in_the_tails():
    fmap = theory.EntanglingMap(["exponential", "gaussian", "laplace"], alpha=0.1)
    z = np.array([[1e-9, -8.0, -30.0], [40.0, 8.0, 30.0], [0.5, 0.0, 1e-12]])
    np.testing.assert_allclose(fmap.inverse(fmap(z)), z, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("d, alpha", [(2, 0.3), (3, 0.05), (6, 0.45)])
def test_analytic_jacobian_matches_finite_differences(d, alpha):
    fmap = theory.EntanglingMap(theory.cycle_marginals(ALL, d), alpha)
    z = theory.sample_latents(fmap.marginals, 200, np.random.default_rng(d))
    J, J_fd = fmap.jacobian(z), fmap.jacobian_fd(z)
    assert J.shape == (200, d, d)
    scale = np.abs(J).max(axis=(1, 2), keepdims=True)
    assert np.max(np.abs(J - J_fd) / scale) < 1e-4
    assert np.all(np.sign(J_fd) == np.sign(fmap.A))  # complete entanglement, sign pattern of A


def test_isotropic_gaussian_case_is_the_rotation_itself():
    fmap = theory.EntanglingMap(["gaussian"] * 4, alpha=0.3)  # g and h cancel: f(z) = A z (§3, Theorem 1; Appendix A)
    z = theory.sample_latents(fmap.marginals, 100, np.random.default_rng(0))
    np.testing.assert_allclose(fmap(z), z @ fmap.A.T, atol=1e-10)
    np.testing.assert_allclose(fmap.jacobian(z), np.broadcast_to(fmap.A, (100, 4, 4)), atol=1e-10)


def test_householder_is_orthogonal_with_no_zero_entry():
    rng = np.random.default_rng(2024)
    for _ in range(20):
        d, alpha = int(rng.integers(2, 40)), float(rng.uniform(1e-3, 0.5 - 1e-3))
        A = theory.householder(d, alpha)
        np.testing.assert_allclose(A @ A.T, np.eye(d), atol=1e-12)
        assert np.abs(A).min() > 0
        v = np.sqrt([alpha] + [(1 - alpha) / (d - 1)] * (d - 1))
        # off-diagonal entries are -2 v_i v_j (the paper's -v_i v_j is a typo)
        np.testing.assert_allclose(A[0, 1], -2 * v[0] * v[1])


@pytest.mark.parametrize("d, alpha", [(1, 0.3), (0, 0.3), (2.5, 0.3), (3, 0.0), (3, 0.5), (3, -0.1), (3, 0.7)])
def test_bad_householder_arguments_raise(d, alpha):
    with pytest.raises(ValueError, match="householder"):
        theory.householder(d, alpha)


def test_bad_marginals_raise():
    with pytest.raises(ValueError, match="unknown marginals"):
        theory.EntanglingMap(["uniform", "cauchy"], 0.3)
    with pytest.raises(ValueError, match="d must be an integer >= 2"):
        theory.EntanglingMap(["uniform"], 0.3)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        theory.EntanglingMap(["uniform", "beta"], 0.3)(np.zeros((5, 3)))


def test_cycle_marginals_and_sampling_are_deterministic():
    assert theory.cycle_marginals(["uniform", "beta"], 5) == ("uniform", "beta", "uniform", "beta", "uniform")
    a = theory.sample_latents(["beta", "laplace"], 50, np.random.default_rng(7))
    b = theory.sample_latents(["beta", "laplace"], 50, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


def test_marginals_are_preserved():
    fmap = theory.EntanglingMap(ALL, alpha=0.3)  # every family, entangled together
    rng = np.random.default_rng(0)
    fz = fmap(theory.sample_latents(fmap.marginals, 20_000, rng))
    ks = theory.ks_checks(fz, fmap.marginals, theory.sample_latents(fmap.marginals, 20_000, rng))
    assert list(ks["marginal"]) == ALL
    assert (ks["p vs F_i"] > 0.01).all() and (ks["p vs fresh z_i"] > 0.01).all()


def test_ks_check_detects_a_changed_marginal():
    z = theory.sample_latents(["exponential", "uniform"], 5000, np.random.default_rng(0))
    ks = theory.ks_checks(z * 1.2, ["exponential", "uniform"], z)
    assert (ks["p vs F_i"] < 1e-6).all()


def test_independence_holds_for_f_of_z_but_not_for_a_plain_rotation():
    fmap = theory.EntanglingMap(["uniform", "exponential", "beta"], alpha=0.3)
    z = theory.sample_latents(fmap.marginals, 20_000, np.random.default_rng(3))
    table = theory.independence_checks(
        {"f(z)": fmap(z), "rotation": theory.standardised_rotation(z, fmap.A)}, bins=10)
    fz_rows, rot_rows = table[table["sample"] == "f(z)"], table[table["sample"] == "rotation"]
    assert len(fz_rows) == 3
    assert (fz_rows["chi2 p"] > 0.01 / 3).all() and (fz_rows["spearman"].abs() < 0.03).all()
    assert (rot_rows["chi2 p"] < 1e-6).any()  # the check has power: A z itself is dependent
    summary = theory.independence_summary(table)
    assert list(summary.index) == ["f(z)", "rotation"] and (summary["pairs"] == 3).all()
    assert summary.loc["f(z)", "max TV"] < summary.loc["rotation", "max TV"]


def test_jacobian_checks_report_complete_entanglement():
    fmap = theory.EntanglingMap(["uniform", "exponential", "beta"], alpha=0.3)
    z = theory.sample_latents(fmap.marginals, 300, np.random.default_rng(5))
    checks = theory.jacobian_checks(fmap, z)
    assert checks["nonzero_fraction"] == 1.0 and checks["sign_match_fraction"] == 1.0
    assert checks["max_rel_error"] < 1e-4
    assert checks["sign_match_per_entry"].shape == (3, 3)


def test_grid_image_maps_lines_through_f():
    fmap = theory.EntanglingMap(["uniform", "exponential"], alpha=0.3)
    grid = theory.grid_image(fmap, n_lines=3, n_points=20)
    assert len(grid["z"]) == len(grid["fz"]) == 6
    np.testing.assert_allclose(grid["fz"][0], fmap(grid["z"][0]))
    with pytest.raises(ValueError, match="2-D"):
        theory.grid_image(theory.EntanglingMap(ALL[:3], 0.3))


def test_discretise_factor_bins():
    x = np.column_stack([np.linspace(0, 1, 101), np.arange(101.0) ** 2])
    width = theory.discretise(x, theory.factor_bin_edges(x, 4, "width"))
    freq = theory.discretise(x, theory.factor_bin_edges(x, 4, "frequency"))
    assert width.min() == 0 and width.max() == 3
    np.testing.assert_array_equal(width[:, 0], np.minimum(np.floor(x[:, 0] * 4), 3))
    assert np.bincount(freq[:, 1]).max() - np.bincount(freq[:, 1]).min() <= 1  # equal frequency
    with pytest.raises(ValueError, match="binning"):
        theory.factor_bin_edges(x, 4, "log")


@pytest.fixture(scope="module")
def flip():
    fmap = theory.EntanglingMap(["uniform", "exponential", "beta"], alpha=0.3)
    return theory.metric_flip(fmap, 400, 200, np.random.default_rng(0), factor_bins=4)


def test_metric_flip_scores_r_equals_z_higher_against_z(flip):
    against_z, against_fz = flip.loc["factors = z"], flip.loc["factors = f(z)"]
    assert against_z["MIG"] > 0.8 and against_fz["MIG"] < 0.3
    assert against_z["DCI disentanglement"] > 0.8
    assert against_z["DCI disentanglement"] - against_fz["DCI disentanglement"] > 0.4


def test_claims_table(flip):
    fmap = theory.EntanglingMap(["uniform", "exponential", "beta"], alpha=0.3)
    rng = np.random.default_rng(0)
    z, z_ref = (theory.sample_latents(fmap.marginals, 5000, rng) for _ in range(2))
    fz = fmap(z)
    results = {"A": fmap.A, "ks": theory.ks_checks(fz, fmap.marginals, z_ref),
               "independence": theory.independence_checks({"z": z, "f(z)": fz}),
               "jacobian": theory.jacobian_checks(fmap, z[:100]), "flip": flip}
    claims = theory.claims_c1(results)
    assert list(claims.columns) == ["paper", "this run", "agrees?"]
    assert claims["agrees?"].all()
    results["jacobian"] = {**results["jacobian"], "sign_match_fraction": 0.9}
    assert not theory.claims_c1(results).loc["∂f_i/∂z_j ≠ 0 everywhere (complete entanglement)", "agrees?"]
