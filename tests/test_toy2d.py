"""The 2D rotation toy: eq. (4) against hand-derived values and against autograd gradient ascent."""

import numpy as np
import pytest
import torch

from xai_lib import toy2d

THETAS = np.linspace(-np.pi, np.pi, 97)


@pytest.mark.parametrize("a1", [0.95, 0.7, 0.55, 0.3])
@pytest.mark.parametrize("k,eta", [(1, 1.2), (12, 0.1), (40, 0.03)])
def test_closed_form_equals_autograd_ascent(a1, k, eta):
    closed = toy2d.heatmap(THETAS, a1, k * eta)
    ascent = toy2d.heatmap_autograd(THETAS, a1, k=k, eta=eta)
    np.testing.assert_allclose(ascent, closed, atol=1e-6, rtol=0)
    assert np.abs(ascent - closed).max() < 1e-12  # float64 throughout: agreement to rounding


def test_theta_zero_is_identity_by_hand():
    # W = I: x = (a1, a2), g = (a1, -a2), h = ((1 + k_eta a1) a1, (1 - k_eta a2) a2)
    a1, ke = 0.7, 1.2
    h = toy2d.heatmap(0.0, a1, ke)
    np.testing.assert_allclose(h, [(1 + ke * a1) * a1, (1 - ke * 0.3) * 0.3], atol=1e-15)


def test_theta_half_pi_by_hand():
    # W^-1 = [[0, 1], [-1, 0]], x = (-a2, a1), g = (-a2, a1), h = ((1 - k_eta a2)(-a2), (1 + k_eta a1) a1)
    a1, ke = 0.95, 1.2
    a2 = 1 - a1
    h = toy2d.heatmap(np.pi / 2, a1, ke)
    np.testing.assert_allclose(h, [(1 - ke * a2) * -a2, (1 + ke * a1) * a1], atol=1e-12)


def test_shapes_follow_theta():
    assert toy2d.heatmap(np.zeros((3, 4)), 0.7, 1.2).shape == (3, 4, 2)
    assert toy2d.heatmap(0.1, 0.7, 1.2).shape == (2,)
    assert toy2d.heatmap_autograd(np.zeros((3, 4)), 0.7, k=2, eta=0.5).shape == (3, 4, 2)


def test_rotation_is_orthonormal_and_samples_keep_norm():
    w = toy2d.rotation(THETAS)
    np.testing.assert_allclose(w @ np.swapaxes(w, -1, -2), np.broadcast_to(np.eye(2), w.shape), atol=1e-14)
    x = toy2d.sample(THETAS, 0.7)
    np.testing.assert_allclose(np.linalg.norm(x, axis=-1), np.hypot(0.7, 0.3), atol=1e-14)


def test_perfect_classifier_recovers_class_coordinates():
    x = toy2d.sample(THETAS, 0.95)
    f = toy2d.classifier(x, THETAS)
    np.testing.assert_allclose(f, np.broadcast_to(toy2d.sigmoid(np.array([0.95, 0.05])), f.shape), atol=1e-14)


def test_co_score_zero_heatmap_and_gax_improves():
    assert np.all(toy2d.co_closed_form(THETAS, 0.7, np.zeros((len(THETAS), 2))) == 0)
    for a1 in (0.95, 0.7, 0.55):
        co_gax = toy2d.co_closed_form(THETAS, a1, toy2d.heatmap(THETAS, a1, 1.2))
        co_x = toy2d.co_closed_form(THETAS, a1, toy2d.heatmap(THETAS, a1, 0.0))
        assert np.all(co_gax > 0)
        assert np.all(co_gax > co_x - 1e-12)


def test_co_score_is_eq1_with_sigmoid():
    theta, a1 = 0.3, 0.7
    h = np.array([0.2, -0.1])
    w_inv = toy2d.rotation(theta).T
    x = w_inv.T @ np.array([a1, 1 - a1])
    s = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    expected = np.dot([1, -1], s(w_inv @ (x + h)) - s(w_inv @ x))
    assert toy2d.co_closed_form(theta, a1, h) == pytest.approx(expected, abs=1e-15)


def test_rotation_module_matches_numpy():
    m = toy2d.RotationClassifier(THETAS)
    x = torch.as_tensor(toy2d.sample(THETAS, 0.7))
    np.testing.assert_allclose(m(x).numpy(), toy2d.classifier(x.numpy(), THETAS), atol=1e-14)


def test_homogeneous_angles():
    np.testing.assert_allclose(toy2d.homogeneous_angles(), np.arange(-4, 5) * np.pi / 4)


@pytest.mark.parametrize(
    "call,name",
    [
        (lambda: toy2d.heatmap(0.0, 1.5, 1.2), "a1"),
        (lambda: toy2d.heatmap(0.0, -0.1, 1.2), "a1"),
        (lambda: toy2d.heatmap(np.nan, 0.7, 1.2), "theta"),
        (lambda: toy2d.heatmap(0.0, 0.7, np.inf), "k_eta"),
        (lambda: toy2d.heatmap_autograd(0.0, 0.7, k=-1, eta=0.1), "k"),
    ],
)
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()
