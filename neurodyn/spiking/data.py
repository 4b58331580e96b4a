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


# Sub-key of the "data" stream (neurodyn.seeding) for pixel noise, apart from the
# digits' own draws (keys 0 and 1, neurodyn.tasks.digits) under the same seed.
_PIXEL_NOISE_KEY = 2


def add_pixel_noise(images, sigma: float, *, max_value: float, seed=0) -> np.ndarray:
    r"""Independent Gaussian noise on every pixel, clipped to the pixel range.

    The inputs of the kernel quality's generalisation rank
    (:func:`~neurodyn.spiking.kernel_quality`; Ivanov & Michmizos 2021):

    .. math::

        \tilde x_k = \min\bigl(\max(x_k + \sigma \xi_k,\ 0),\ x_{\max}\bigr),
        \qquad \xi_k \sim \mathcal{N}(0, 1) \text{ independent.}

    The paper uses :math:`\sigma = 125` on MNIST's 0-255 scale. The same fraction of
    the range is :math:`\sigma = 125/255 \cdot 16` for scikit-learn's 8x8 digits
    (pixels 0-16), and ``sigma=125/255, max_value=1`` for the digits of
    :func:`~neurodyn.spiking.load_digits`, which are scaled to [0, 1].

    Parameters
    ----------
    images : array (n, ...)
        Pixel intensities in ``[0, max_value]``; any shape, kept. Not modified.
    sigma : float
        Standard deviation :math:`\sigma` of the noise, in the units of ``images``
        (>= 0; 0 returns a copy of the images).
    max_value : float
        The largest pixel value :math:`x_{\max}` (> 0), the upper clipping bound.
    seed : int or numpy.random.Generator
        Seeds the noise (the ``"data"`` stream, :mod:`neurodyn.seeding`).

    Returns
    -------
    array, the shape of ``images``
        :math:`\tilde x`, float64.

    Raises
    ------
    ValueError
        For images that are not finite or lie outside ``[0, max_value]``, a negative
        or infinite ``sigma`` or a ``max_value`` that is not positive.

    Examples
    --------
    Noisy copies of two 8x8 images on scikit-learn's 0-16 scale, at the paper's
    fraction of the range:

    >>> images = np.zeros((2, 8, 8))
    >>> images[:, 2:6, 3:5] = 16.0
    >>> noisy = add_pixel_noise(images, 125 / 255 * 16, max_value=16.0, seed=0)
    >>> noisy.shape, float(noisy.min()), float(noisy.max())
    ((2, 8, 8), 0.0, 16.0)
    >>> bool(np.array_equal(add_pixel_noise(images, 0.0, max_value=16.0), images))
    True
    """
    top = check_positive("max_value", max_value)
    sigma = check_positive("sigma", sigma, allow_zero=True)
    x = check_finite("images", images)
    if x.dtype.kind not in "biuf":
        raise ValueError(f"images must be an array of pixel intensities, got dtype {x.dtype}")
    x = x.astype(np.float64)
    if np.any(x < 0) or np.any(x > top):
        raise ValueError(
            f"images must lie in [0, max_value={top:g}], got values in [{x.min():g}, {x.max():g}]"
        )
    noise = make_rng(seed, "data", _PIXEL_NOISE_KEY).normal(0.0, sigma, x.shape)
    return np.clip(x + noise, 0.0, top)
