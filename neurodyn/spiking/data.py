r"""Images as spike-rate inputs, the NALSM way (models.md §3.3).

Each image is divided by its own pixel sum, then the whole set by the largest of
those normalised values, giving :math:`p_k \in [0, 1]` per pixel, used as the
probability that input channel :math:`k` receives an event in each millisecond:

.. math:: p_{nk} = \frac{x_{nk} / \sum_l x_{nl}}{\max_{m,l} \, x_{ml} / \sum_{l'} x_{ml'}}.

The default data set is scikit-learn's bundled 8x8 digits (1797 images, no
download; :func:`load_digits`, shared with the sequential-digits task
:mod:`neurodyn.tasks.digits`). Used as they are, they give about 12 input events per ms, the order of
MNIST's; the input drive of a liquid neuron depends on that rate, not on the
number of pixels (each neuron samples a fixed fraction of them). Upsampling to
28x28 (MNIST's 784 channels) blurs every stroke over many pixels and raises the
rate to about 170 per ms, which saturates a NALSM liquid.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_finite, check_positive
from ..seeding import make_rng
from ..tasks.digits import load_digits

__all__ = ["add_pixel_noise", "images_to_probabilities", "load_digits"]


def images_to_probabilities(images, *, scale: float | None = None) -> tuple[np.ndarray, float]:
    """Per-millisecond event probabilities of every pixel (module docstring).

    Parameters
    ----------
    images : array (n, ...) of non-negative values
        Any image shape; pixels are flattened.
    scale : float, optional
        The divisor of the second normalisation. Default: the largest normalised
        pixel of ``images``; pass the training set's to encode a test set alike.

    Returns
    -------
    probabilities : array (n, n_pixels) in [0, 1]
    scale : float

    Examples
    --------
    >>> p, s = images_to_probabilities(np.array([[1.0, 3.0], [2.0, 2.0]]))
    >>> p.tolist(), s
    ([[0.3333333333333333, 1.0], [0.6666666666666666, 0.6666666666666666]], 0.75)
    """
    x = check_finite("images", np.asarray(images, dtype=np.float64))
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError(f"images must have shape (n_images, ...), got {x.shape}")
    x = x.reshape(x.shape[0], -1)
    if np.any(x < 0):
        raise ValueError("images must be non-negative (pixel intensities)")
    sums = x.sum(axis=1, keepdims=True)
    if np.any(sums == 0):
        raise ValueError(f"{int(np.count_nonzero(sums == 0))} image(s) are blank (all pixels 0)")
    normed = x / sums
    if scale is None:
        scale = float(normed.max())
    check_positive("scale", scale)
    return np.clip(normed / scale, 0.0, 1.0), float(scale)


def add_pixel_noise(images, sigma: float, *, maximum: float = 1.0, seed=0) -> np.ndarray:
    """Gaussian pixel noise, clipped to ``[0, maximum]`` (the kernel-quality AP test).

    The paper's MNIST test uses :math:`\\sigma = 125` on the 0-255 scale, i.e.
    ``sigma=125/255`` for images in [0, 1].

    Parameters
    ----------
    images : array (n, ...)
        Pixel intensities in ``[0, maximum]``; any shape, kept.
    sigma : float
        Standard deviation of the independent Gaussian noise added to every pixel,
        in the units of ``images`` (>= 0; 0 returns a clipped copy).
    maximum : float
        Upper clipping bound, the largest pixel value (1 for images in [0, 1],
        16 for scikit-learn's 8x8 digits).
    seed : int or Generator
        Seeds the noise (its ``"data"`` stream, :mod:`neurodyn.seeding`).

    Returns
    -------
    array, the shape of ``images``
        ``clip(images + noise, 0, maximum)``, float64.

    Examples
    --------
    Noisy copies of two 8x8 images in [0, 1], for the generalisation rank of
    :func:`~neurodyn.spiking.kernel_quality`:

    >>> images = np.zeros((2, 8, 8))
    >>> images[:, 2:6, 3:5] = 1.0
    >>> noisy = add_pixel_noise(images, 125 / 255, seed=0)
    >>> noisy.shape, bool(noisy.min() >= 0.0), bool(noisy.max() <= 1.0)
    ((2, 8, 8), True, True)
    >>> bool(np.array_equal(add_pixel_noise(images, 0.0), images))
    True
    """
    x = check_finite("images", np.asarray(images, dtype=np.float64))
    check_positive("sigma", sigma, allow_zero=True)
    noise = make_rng(seed, "data").normal(0.0, sigma, x.shape)
    return np.clip(x + noise, 0.0, maximum)
