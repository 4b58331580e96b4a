"""Pixel noise for the kernel quality's generalisation test: its statistics and bounds."""

import numpy as np
import pytest

from neurodyn.spiking import add_pixel_noise

# scikit-learn's 8x8 digits run 0-16; the paper's sigma = 125 of 255 is this fraction of it.
TOP = 16.0
PAPER_SIGMA = 125 / 255 * TOP


def test_pixel_noise_is_standard_gaussian_scaled_by_sigma():
    # Mid-range pixels and sigma = 0.5: the bounds lie 16 sigma away, so nothing is
    # clipped (checked below) and out - images is the noise itself.
    sigma = 0.5
    images = np.full((200, 8, 8), TOP / 2)
    noise = (add_pixel_noise(images, sigma, max_value=TOP, seed=0) - images).ravel()
    n = noise.size
    assert np.all(np.abs(noise) < TOP / 2)
    # Tolerances: 5 standard errors. The sample mean has SD sigma/sqrt(n), the sample SD
    # about sigma/sqrt(2n), the fraction beyond one sigma sqrt(p(1-p)/n), and the
    # correlation of neighbouring pixels 1/sqrt(n).
    assert abs(noise.mean()) < 5 * sigma / np.sqrt(n)
    assert abs(noise.std(ddof=1) - sigma) < 5 * sigma / np.sqrt(2 * n)
    p = 0.31731050786291415  # P(|Z| > 1) for a standard normal Z
    assert abs(np.mean(np.abs(noise) > sigma) - p) < 5 * np.sqrt(p * (1 - p) / n)
    assert abs(np.corrcoef(noise[:-1], noise[1:])[0, 1]) < 5 / np.sqrt(n)


def test_pixel_noise_is_clipped_to_the_pixel_range():
    images = np.random.default_rng(1).uniform(0.0, TOP, (50, 8, 8))
    out = add_pixel_noise(images, PAPER_SIGMA, max_value=TOP, seed=2)
    assert out.min() == 0.0 and out.max() == TOP  # the bounds hold and are reached
    # The noise drawn under a seed does not depend on the pixel values: far from the
    # bounds it is read off directly, and the clipped result is clip(x + sigma z, 0, TOP).
    # Tolerance: the offset of 1000 rounds z to about 1e-13.
    z = add_pixel_noise(np.full(images.shape, 1000.0), 1.0, max_value=2000.0, seed=2) - 1000.0
    np.testing.assert_allclose(out, np.clip(images + PAPER_SIGMA * z, 0.0, TOP), atol=1e-11)


def test_pixel_noise_seeds_copies_and_zero_sigma():
    images = np.random.default_rng(3).integers(0, 17, (4, 8, 8)).astype(np.uint8)
    before = images.copy()
    out = add_pixel_noise(images, 0.0, max_value=TOP)
    assert out.dtype == np.float64 and out.shape == images.shape
    np.testing.assert_array_equal(out, images)
    floats = images.astype(np.float64)
    assert not np.shares_memory(add_pixel_noise(floats, 0.0, max_value=TOP), floats)
    a = add_pixel_noise(images, PAPER_SIGMA, max_value=TOP, seed=5)
    np.testing.assert_array_equal(a, add_pixel_noise(images, PAPER_SIGMA, max_value=TOP, seed=5))
    assert not np.array_equal(a, add_pixel_noise(images, PAPER_SIGMA, max_value=TOP, seed=6))
    np.testing.assert_array_equal(images, before)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"images": np.full((2, 4), np.nan)}, r"^images contains 8 NaN"),
        ({"images": -np.ones((2, 4))}, r"^images must lie in \[0, max_value=16\]"),
        ({"images": np.full((2, 4), 17.0)}, r"^images must lie in \[0, max_value=16\]"),
        ({"images": np.array([["a", "b"]])}, r"^images must be an array of pixel intensities"),
        ({"sigma": -1.0}, r"^sigma must be finite and >= 0"),
        ({"sigma": np.inf}, r"^sigma must be finite and >= 0"),
        ({"sigma": np.nan}, r"^sigma must be finite and >= 0"),
        ({"max_value": 0.0}, r"^max_value must be finite and > 0"),
        ({"max_value": np.inf}, r"^max_value must be finite and > 0"),
        ({"seed": -1}, r"^seed must be"),
    ],
)
def test_pixel_noise_bad_input(change, match):
    args = {"images": np.ones((2, 4)), "sigma": 1.0, "max_value": TOP, "seed": 0} | change
    with pytest.raises(ValueError, match=match):
        add_pixel_noise(args.pop("images"), args.pop("sigma"), **args)
