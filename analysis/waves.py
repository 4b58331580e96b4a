r"""Traveling-wave analyses of wave-RNNs (Keller, Muller, Sejnowski & Welling, ICLR 2024).

Four views of the claim that a wRNN stores its recent past in waves:

* :func:`space_time`: the hidden state of each channel as an image, neuron × time;
  a traveling wave is a set of diagonal bands.
* :func:`wave_spectrum`: the 2-D space-time power spectrum of those images. A
  wave :math:`h(t, j) = g(j - v t)` puts all its power on the line
  :math:`f_t = -v\,k_x` (temporal frequency :math:`f_t` in cycles per step, spatial
  frequency :math:`k_x` in cycles per neuron, both modulo 1), so the velocity
  :math:`v` (neurons per step) is the line that collects the most power, and the
  fraction of power on it says how wave-like the activity is.
* :func:`circulant_spectrum`: the eigenvalues of the recurrent convolution. Each
  channel's own circulant block with taps :math:`a_s` has eigenvalues
  :math:`\lambda_m = \sum_s a_s e^{2\pi i m s/n}`; at the shift initialisation they
  are the n-th roots of unity, all on the unit circle (a lossless ring buffer).
* :func:`decode_past_inputs`: how well the input :math:`L` steps ago can be read
  linearly (ridge regression, held-out :math:`R^2`) from the current state, as a
  function of the lag :math:`L`: the "encodes the recent past" claim.

Every function returns a result object with ``.to_xarray()``; the figures are in
:mod:`neurodyn.plotting.waves`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from .._validation import check_finite, check_fraction, check_int, check_positive
from .._version import __version__
from ..seeding import make_rng, resolve_seed
from ..threads import policy

__all__ = [
    "CirculantSpectrum",
    "DecodingResult",
    "SpaceTime",
    "WaveSpectrum",
    "circulant_spectrum",
    "decode_past_inputs",
    "space_time",
    "wave_spectrum",
]


def _as_array(x, name: str) -> np.ndarray:
    if hasattr(x, "states") and not hasattr(x, "shape"):  # a ModelOutput
        x = x.states
    return check_finite(name, x).astype(np.float64)  # check_finite also takes Tensors


# -- space-time images -------------------------------------------------------------------
@dataclass
class SpaceTime:
    """Hidden activity as one neuron × time image per channel.

    Attributes
    ----------
    images : ndarray (trial, channel, time, neuron)
        ``images[k, i, t, j]`` is neuron j of channel i at step t of trial k.
    dt : float
        Step duration (ms).

    Examples
    --------
    :func:`space_time` returns it. Twelve units in three channels of four neurons:
    units 4 to 7 are channel 1:

    >>> from neurodyn.analysis.waves import space_time
    >>> st = space_time(np.arange(12.0)[None, None], n_channels=3, dt=10.0)
    >>> st.images.shape, st.n_channels, st.n_neurons, st.images[0, 1, 0].tolist()
    ((1, 3, 1, 4), 3, 4, [4.0, 5.0, 6.0, 7.0])
    >>> st.to_xarray().dims, st.to_xarray()["time"].values.tolist()  # ms
    (('trial', 'channel', 'time', 'neuron'), [10.0])
    """

    images: np.ndarray
    dt: float = 1.0

    @property
    def n_channels(self) -> int:
        return self.images.shape[1]

    @property
    def n_neurons(self) -> int:
        return self.images.shape[3]

    def to_xarray(self):
        """The images as a DataArray (trial, channel, time, neuron), time in ms."""
        import xarray as xr

        tr, c, T, n = self.images.shape
        return xr.DataArray(
            self.images,
            dims=("trial", "channel", "time", "neuron"),
            coords={
                "trial": np.arange(tr),
                "channel": np.arange(c),
                "time": (np.arange(T) + 1) * self.dt,
                "neuron": np.arange(n),
            },
            name="activity",
            attrs={"dt": self.dt, "neurodyn_version": __version__},
        )


def space_time(states, n_channels: int, *, dt: float = 1.0) -> SpaceTime:
    """Lay hidden states (trial, time, c·n) out as neuron × time images per channel.

    Parameters
    ----------
    states : array or Tensor (trial, time, c·n) or (time, c·n), or a ModelOutput
        Hidden states with channel-major units (unit ``i * n + j`` is neuron ``j`` of
        channel ``i``, as :class:`~neurodyn.rnn_models.WaveRNN` numbers them).
    n_channels : int
        Number of channels ``c`` (use 1 for an iRNN, whose units are one ring).
    dt : float
        Step duration in ms (labels only).

    Returns
    -------
    SpaceTime

    Examples
    --------
    >>> st = space_time(np.zeros((2, 5, 12)), n_channels=3)
    >>> st.images.shape
    (2, 3, 5, 4)
    """
    h = _as_array(states, "states")
    if h.ndim == 2:
        h = h[None]
    if h.ndim != 3:
        raise ValueError(
            f"states has shape {h.shape}; expected (trial, time, units) or (time, units)"
        )
    c = check_int("n_channels", n_channels)
    if h.shape[2] % c:
        raise ValueError(f"states has {h.shape[2]} units, not a multiple of n_channels={c}")
    tr, T, units = h.shape
    images = h.reshape(tr, T, c, units // c).transpose(0, 2, 1, 3)
    return SpaceTime(np.ascontiguousarray(images), check_positive("dt", dt))


# -- space-time spectrum -----------------------------------------------------------------
@dataclass
class WaveSpectrum:
    """Space-time power spectrum and the traveling-wave velocity read from it.

    Attributes
    ----------
    power : ndarray (channel, freq_time, freq_space)
        Power summed over trials, frequencies in FFT order (see ``freq_time``,
        ``freq_space``); the spatially uniform column (``freq_space == 0``) is kept
        here but ignored by the velocity estimate.
    freq_time : ndarray
        Temporal frequencies in cycles per step.
    freq_space : ndarray
        Spatial frequencies in cycles per neuron.
    velocity : float
        Signed wave velocity in neurons per step (positive: towards higher neuron
        indices); the line :math:`f_t = -v k_x` that holds most power.
    speed : float
        ``abs(velocity)``.
    diagonal_fraction : float
        Fraction of the power (without the spatially uniform column) within
        ``bandwidth`` frequency bins of that line, all channels together.
    channel_fraction : ndarray (channel,)
        The same fraction per channel.
    chance_fraction : float
        The fraction a spectrum spread evenly would put on the line (the band's share
        of the frequency plane); activity without waves is near this.
    velocities, fraction_by_velocity : ndarray
        The candidate velocities and the power fraction on each one's line.
    bandwidth : float
        Half-width of the line in temporal-frequency bins of the unpadded series.
    dt : float
        Step duration (ms) of the activity analysed.

    Examples
    --------
    :func:`wave_spectrum` returns it. A wave :math:`\\cos(2\\pi \\cdot 3(j - 2t)/32)` on
    a ring of 32 neurons moves two neurons per step towards higher indices: nearly all
    its power lies on the line of :math:`v = 2`, against 6.6 % for evenly spread power:

    >>> from neurodyn.analysis.waves import wave_spectrum
    >>> t, j = np.meshgrid(np.arange(64), np.arange(32), indexing="ij")
    >>> spec = wave_spectrum(np.cos(2 * np.pi * 3 * (j - 2 * t) / 32))
    >>> spec.velocity, spec.speed, bool(spec.diagonal_fraction > 0.99)
    (2.0, 2.0, True)
    >>> round(spec.chance_fraction, 4), spec.power.shape  # (channel, 4 × 64, 32)
    (0.0664, (1, 256, 32))
    """

    power: np.ndarray
    freq_time: np.ndarray
    freq_space: np.ndarray
    velocity: float
    speed: float
    diagonal_fraction: float
    channel_fraction: np.ndarray
    chance_fraction: float
    velocities: np.ndarray
    fraction_by_velocity: np.ndarray
    bandwidth: float
    dt: float = 1.0

    def to_xarray(self):
        """A Dataset with ``power`` (channel, freq_time, freq_space) and ``fraction`` (velocity)."""
        import xarray as xr

        order_t, order_x = np.argsort(self.freq_time), np.argsort(self.freq_space)
        return xr.Dataset(
            {
                "power": (
                    ("channel", "freq_time", "freq_space"),
                    self.power[:, order_t][:, :, order_x],
                ),
                "fraction": ("velocity", self.fraction_by_velocity),
                "channel_fraction": ("channel", self.channel_fraction),
            },
            coords={
                "channel": np.arange(self.power.shape[0]),
                "freq_time": ("freq_time", self.freq_time[order_t], {"units": "cycles/step"}),
                "freq_space": ("freq_space", self.freq_space[order_x], {"units": "cycles/neuron"}),
                "velocity": ("velocity", self.velocities, {"units": "neurons/step"}),
            },
            attrs={
                "velocity": self.velocity,
                "speed": self.speed,
                "diagonal_fraction": self.diagonal_fraction,
                "chance_fraction": self.chance_fraction,
                "bandwidth": self.bandwidth,
                "dt": self.dt,
                "neurodyn_version": __version__,
            },
        )


def _wrap(x: np.ndarray) -> np.ndarray:
    """Frequencies modulo 1, into [-0.5, 0.5)."""
    return (x + 0.5) % 1.0 - 0.5


def wave_spectrum(
    states,
    n_channels: int = 1,
    *,
    skip: int = 0,
    max_speed: float = 3.0,
    resolution: float = 0.01,
    bandwidth: float = 2.0,
    pad: int = 4,
) -> WaveSpectrum:
    r"""2-D space-time FFT of the hidden state and the velocity of its traveling waves.

    Each channel's image (time × neuron, one per trial) has each neuron's temporal
    mean removed (stationary patterns are not waves), is tapered in time by a Hann window (the ring is periodic in space, so space needs
    none) and zero-padded to ``pad`` times its length, and its power
    :math:`|\hat h(f_t, k_x)|^2` is summed over trials. For every candidate velocity
    :math:`v` the fraction of power with :math:`|f_t + v k_x| \le` ``bandwidth``/T
    (modulo 1, so fast waves alias correctly) is computed, leaving out the spatially
    uniform column :math:`k_x = 0`, which lies on every line. The velocity is the line
    on which a Gaussian of the band's half-width collects the most power (the hard
    band's fraction is flat over velocities within the band), and
    ``diagonal_fraction`` is the hard band's fraction on that line.

    Parameters
    ----------
    states : array or Tensor (trial, time, c·n) or (time, c·n), a ModelOutput or a SpaceTime
    n_channels : int
        Channels ``c`` (ignored for a :class:`SpaceTime`).
    skip : int
        Leading steps to drop (a transient).
    max_speed, resolution : float
        Candidate velocities :math:`v \in [-\text{max\_speed}, \text{max\_speed}]` in
        steps of ``resolution`` (neurons per step).
    bandwidth : float
        Half-width of the line in bins of :math:`1/T`: the Hann window spreads a pure
        tone over :math:`\pm 2` bins (its main lobe), so 2 keeps nearly all of it.
    pad : int
        Zero-padding factor in time (a finer frequency grid; no new information).

    Returns
    -------
    WaveSpectrum

    Examples
    --------
    >>> t, j = np.meshgrid(np.arange(64), np.arange(32), indexing="ij")
    >>> wave = np.cos(2 * np.pi * 3 * (j + t) / 32)      # moves one neuron per step down
    >>> spec = wave_spectrum(wave)
    >>> round(spec.velocity, 2), spec.diagonal_fraction > 0.95
    (-1.0, True)
    """
    st = states if isinstance(states, SpaceTime) else space_time(states, n_channels)
    check_int("skip", skip, low=0)
    images = st.images[:, :, skip:]
    T, n = images.shape[2], images.shape[3]
    if T < 4 or n < 2:
        raise ValueError(
            f"need at least 4 steps (after skip={skip}) and 2 neurons; got {T} steps, {n} neurons"
        )
    max_speed = check_positive("max_speed", max_speed)
    resolution = check_positive("resolution", resolution)
    bandwidth = check_positive("bandwidth", bandwidth)
    pad = check_int("pad", pad)
    # Removing each neuron's temporal mean drops stationary patterns (a standing
    # profile is no wave) and the constant offset, whose window leakage would blur
    # the low temporal frequencies.
    x = images - images.mean(axis=2, keepdims=True)
    x = x * np.hanning(T + 2)[1:-1][None, None, :, None]
    n_fft = pad * T
    power = (np.abs(np.fft.fft2(x, s=(n_fft, n), axes=(2, 3))) ** 2).sum(axis=0)
    f_t = np.fft.fftfreq(n_fft)
    k_x = np.fft.fftfreq(n)
    moving = power[:, :, k_x != 0]  # (channel, f_t, k_x without 0)
    kx = k_x[k_x != 0]
    total_c = moving.sum(axis=(1, 2))
    total = total_c.sum()
    velocities = np.round(np.arange(-max_speed, max_speed + resolution / 2, resolution), 10)
    half = bandwidth / T
    frac = np.empty(len(velocities))
    score = np.empty(len(velocities))
    summed = moving.sum(axis=0)
    for i, v in enumerate(velocities):
        dist = np.abs(_wrap(f_t[:, None] + v * kx[None, :]))
        frac[i] = summed[dist <= half].sum() / total if total > 0 else 0.0
        # The hard band's fraction is flat across nearby velocities (a plateau as wide
        # as the band); a Gaussian weight of the same width peaks where the power is
        # centred, which picks the velocity.
        score[i] = (summed * np.exp(-0.5 * (dist / (0.5 * half)) ** 2)).sum()
    best = int(np.argmax(score))
    v = float(velocities[best])
    band = np.abs(_wrap(f_t[:, None] + v * kx[None, :])) <= half
    per_channel = np.where(
        total_c > 0, (moving * band[None]).sum(axis=(1, 2)) / np.maximum(total_c, 1e-300), 0.0
    )
    chance = float(band.mean())
    return WaveSpectrum(
        power,
        f_t,
        k_x,
        v,
        abs(v),
        float(frac[best]),
        per_channel,
        chance,
        velocities,
        frac,
        bandwidth,
        st.dt,
    )


# -- circulant spectrum ------------------------------------------------------------------
@dataclass
class CirculantSpectrum:
    r"""Eigenvalues of a wave-RNN's recurrent convolution.

    Attributes
    ----------
    channel_eigenvalues : ndarray (channel, n), complex
        Eigenvalues :math:`\lambda_m = \sum_k u_{i,i,k} e^{2\pi i m (k-p)/n}` of each
        channel's own circulant block (the diagonal blocks), for modes ``m = 0 .. n-1``.
    eigenvalues : ndarray (c·n,), complex
        Eigenvalues of the whole block-circulant matrix: the union over modes ``m``
        of the eigenvalues of the c × c matrices
        :math:`\hat u(m) = \sum_k u_{:,:,k} e^{2\pi i m (k-p)/n}`.
    mode : ndarray (c·n,)
        The Fourier mode each entry of ``eigenvalues`` belongs to.

    Examples
    --------
    :func:`circulant_spectrum` returns it. On a ring of 8 neurons, a kernel that
    averages each neuron with its neighbour, :math:`h_j \leftarrow (h_j + h_{j-1})/2`,
    has eigenvalues :math:`\lambda_m = (1 + e^{2\pi i m/8})/2`: mode 0 is kept and
    the others decay:

    >>> from neurodyn.analysis.waves import circulant_spectrum
    >>> u = np.zeros((1, 1, 3)); u[0, 0, 1:] = 0.5   # taps at shifts 0 and 1
    >>> spec = circulant_spectrum(u, 8)
    >>> m = np.arange(8)
    >>> bool(np.allclose(spec.channel_eigenvalues[0], (1 + np.exp(2j * np.pi * m / 8)) / 2))
    True
    >>> round(spec.spectral_radius, 12), spec.mode.tolist()
    (1.0, [0, 1, 2, 3, 4, 5, 6, 7])
    """

    channel_eigenvalues: np.ndarray
    eigenvalues: np.ndarray
    mode: np.ndarray

    @property
    def spectral_radius(self) -> float:
        return float(np.abs(self.eigenvalues).max())

    def to_xarray(self):
        """A Dataset of real and imaginary parts (netCDF has no complex type)."""
        import xarray as xr

        lam = self.channel_eigenvalues
        return xr.Dataset(
            {
                "channel_real": (("channel", "mode"), lam.real),
                "channel_imag": (("channel", "mode"), lam.imag),
                "real": ("eigenvalue", self.eigenvalues.real),
                "imag": ("eigenvalue", self.eigenvalues.imag),
                "eigenvalue_mode": ("eigenvalue", self.mode),
            },
            coords={"channel": np.arange(lam.shape[0]), "mode": np.arange(lam.shape[1])},
            attrs={"spectral_radius": self.spectral_radius, "neurodyn_version": __version__},
        )


def circulant_spectrum(model_or_kernel, n_neurons: int | None = None) -> CirculantSpectrum:
    r"""Eigenvalues of the circular convolution of a wave-RNN, exactly, mode by mode.

    The block-circulant matrix is diagonalised by the discrete Fourier transform along
    the ring, so its c·n eigenvalues are those of n small c × c matrices; no dense
    (c·n)² eigenproblem is solved.

    Parameters
    ----------
    model_or_kernel : WaveRNN or array (c, c, f)
    n_neurons : int, optional
        Ring length (taken from the model when a model is given).

    Returns
    -------
    CirculantSpectrum

    Examples
    --------
    >>> u = np.zeros((1, 1, 3)); u[0, 0, 2] = 1.0          # the shift initialisation
    >>> spec = circulant_spectrum(u, 8)
    >>> bool(np.allclose(np.abs(spec.eigenvalues), 1.0))
    True
    """
    if hasattr(model_or_kernel, "kernel") and hasattr(model_or_kernel, "n_neurons"):
        n_neurons = model_or_kernel.n_neurons if n_neurons is None else n_neurons
        kernel = model_or_kernel.kernel
    else:
        kernel = model_or_kernel
        if n_neurons is None:
            raise ValueError("n_neurons is required when a kernel array is given")
    u = _as_array(kernel, "kernel")
    if u.ndim != 3 or u.shape[0] != u.shape[1] or u.shape[2] % 2 == 0:
        raise ValueError(f"kernel has shape {u.shape}; expected (c, c, f) with f odd")
    n = check_int("n_neurons", n_neurons)
    c, _, f = u.shape
    shifts = np.arange(f) - (f - 1) // 2
    phase = np.exp(2j * np.pi * np.outer(np.arange(n), shifts) / n)  # (mode, tap)
    u_hat = np.einsum("ilk,mk->mil", u, phase)  # (mode, c, c)
    diag = np.einsum("iik,mk->im", u, phase)  # (channel, mode)
    eig = np.linalg.eigvals(u_hat)  # (mode, c)
    return CirculantSpectrum(diag, eig.reshape(-1), np.repeat(np.arange(n), c))


# -- decoding the past -------------------------------------------------------------------
@dataclass
class DecodingResult:
    """Held-out linear decodability of past inputs from the current state, by lag.

    Attributes
    ----------
    lags : ndarray (lag,)
        Steps into the past.
    r2 : ndarray (lag,)
        Held-out :math:`R^2` averaged over the input channels that vary.
    r2_per_input : ndarray (lag, input)
        Per input channel (NaN for channels constant on the test set).
    ridge : float
        The relative ridge penalty λ used.
    seed : int
        The seed of the train/test split.
    config : dict
        The other settings: ``lags``, ``test_fraction`` and ``skip``.

    Examples
    --------
    :func:`decode_past_inputs` returns it. A shift register that holds its last five
    inputs recalls lags 0 to 4 perfectly and nothing older (the inputs are
    independent):

    >>> from neurodyn.analysis.waves import decode_past_inputs
    >>> x = np.random.default_rng(0).normal(size=(20, 100, 1))  # trial, time, input
    >>> h = np.concatenate([np.pad(x, ((0, 0), (k, 0), (0, 0)))[:, :100] for k in range(5)],
    ...                    axis=2)  # h_t = (x_t, ..., x_{t-4})
    >>> res = decode_past_inputs(h, x, lags=range(8))
    >>> res.r2[:5].round(4).tolist(), bool(np.all(np.abs(res.r2[5:]) < 0.05))
    ([1.0, 1.0, 1.0, 1.0, 1.0], True)
    >>> res.memory(), res.r2_per_input.shape, res.config["test_fraction"]
    (5, (8, 1), 0.5)
    """

    lags: np.ndarray
    r2: np.ndarray
    r2_per_input: np.ndarray
    ridge: float
    seed: int
    config: dict = field(default_factory=dict)

    def memory(self, threshold: float = 0.5) -> int:
        """Number of consecutive lags, from the first, decoded with :math:`R^2 \\ge` ``threshold``.

        Parameters
        ----------
        threshold : float
            The smallest :math:`R^2` that counts as remembered.
        """
        below = np.flatnonzero(~(self.r2 >= threshold))
        return int(below[0]) if below.size else len(self.r2)

    def to_xarray(self):
        """A Dataset with ``r2`` (lag) and ``r2_per_input`` (lag, input)."""
        import xarray as xr

        return xr.Dataset(
            {"r2": ("lag", self.r2), "r2_per_input": (("lag", "input"), self.r2_per_input)},
            coords={"lag": self.lags, "input": np.arange(self.r2_per_input.shape[1])},
            attrs={
                "ridge": self.ridge,
                "seed": self.seed,
                "config": json.dumps(self.config),
                "neurodyn_version": __version__,
            },
        )


def _regression_work(states) -> float:
    """Floating-point operations of one ridge regression on ``states``: 2 n d²."""
    h = _as_array(states, "states")
    return 2.0 * h.size * h.shape[-1]


@policy(work=lambda a: _regression_work(a["states"]))
def decode_past_inputs(
    states,
    inputs,
    *,
    lags=range(0, 30),
    ridge: float = 1e-3,
    test_fraction: float = 0.5,
    skip: int = 0,
    seed: int = 0,
    threads: int | None = None,
) -> DecodingResult:
    r"""How well the input :math:`L` steps ago is linearly decodable from the state now.

    For each lag :math:`L`, ridge regression from :math:`h_t` (with a constant) to
    :math:`x_{t-L}` over all steps :math:`t \ge L` (and ``t >= skip``) of the
    training trials,

    .. math:: \hat W = \arg\min_W \|X_{-L} - H W\|^2 + \lambda \operatorname{tr}(H^\top H)/d\,\|W\|^2,

    (the penalty scaled by the mean feature variance, so ``ridge`` is unit-free),
    and :math:`R^2 = 1 - \mathrm{SSE}/\mathrm{SST}` on the held-out trials, per input
    channel. Trials are split by a seeded permutation.

    Parameters
    ----------
    states : array or Tensor (trial, time, units), or a ModelOutput
    inputs : array or Tensor (trial, time, n_input)
        The inputs that produced ``states`` (one step each).
    lags : iterable of int
        Lags to test (default 0 … 29).
    ridge : float
        Relative ridge penalty :math:`\lambda` (default 1e-3).
    test_fraction : float in (0, 1)
        Share of trials held out.
    skip : int
        Leading steps never used as targets' time points.
    seed : int
        Seeds the train/test split.
    threads : int, optional
        Threads for the computation; default: chosen by :mod:`neurodyn.threads` from
        the work and the cores other processes leave free.

    Returns
    -------
    DecodingResult

    Examples
    --------
    A shift register that holds its last five inputs, :math:`h_t = (x_t, \dots,
    x_{t-4})`, driven by independent inputs, remembers five steps:

    >>> x = np.random.default_rng(0).normal(size=(20, 100, 1))  # trial, time, input
    >>> h = np.concatenate([np.pad(x, ((0, 0), (k, 0), (0, 0)))[:, :100] for k in range(5)],
    ...                    axis=2)
    >>> decode_past_inputs(h, x, lags=range(8)).memory(threshold=0.5)
    5
    """
    h = _as_array(states, "states")
    x = _as_array(inputs, "inputs")
    if h.ndim != 3 or x.ndim != 3 or h.shape[:2] != x.shape[:2]:
        raise ValueError(
            f"states {h.shape} and inputs {x.shape} must both be (trial, time, ·) with the "
            "same trials and steps"
        )
    lags = np.asarray(list(lags), dtype=int)
    if lags.size == 0 or np.any(lags < 0) or np.any(lags >= h.shape[1]):
        raise ValueError(
            f"lags must be non-empty integers in [0, {h.shape[1]}), got {lags.tolist()}"
        )
    ridge = check_positive("ridge", ridge, allow_zero=True)
    test_fraction = check_fraction("test_fraction", test_fraction)
    if test_fraction >= 1 or h.shape[0] < 2:
        raise ValueError("test_fraction must be below 1 and there must be at least 2 trials")
    seed = resolve_seed(seed)
    n_tr = h.shape[0]
    order = make_rng(seed, "analysis").permutation(n_tr)
    n_test = min(max(int(round(test_fraction * n_tr)), 1), n_tr - 1)
    test, train = order[:n_test], order[n_test:]
    r2 = np.full((lags.size, x.shape[2]), np.nan)
    for i, lag in enumerate(lags):
        start = max(int(lag), int(skip))

        def pairs(idx, lag=lag, start=start):
            feats = h[idx, start:].reshape(-1, h.shape[2])
            target = x[idx, start - lag : x.shape[1] - lag].reshape(-1, x.shape[2])
            return feats, target

        h_tr, x_tr = pairs(train)
        h_te, x_te = pairs(test)
        mu_h, mu_x = h_tr.mean(0), x_tr.mean(0)
        a = h_tr - mu_h
        gram = a.T @ a
        lam = ridge * np.trace(gram) / max(gram.shape[0], 1)
        w = np.linalg.solve(gram + (lam + 1e-12) * np.eye(gram.shape[0]), a.T @ (x_tr - mu_x))
        pred = (h_te - mu_h) @ w + mu_x
        sst = ((x_te - x_te.mean(0)) ** 2).sum(0)
        sse = ((x_te - pred) ** 2).sum(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            r2[i] = np.where(sst > 1e-12, 1.0 - sse / sst, np.nan)
    with np.errstate(invalid="ignore"):
        mean = np.array([np.nanmean(row) if np.any(np.isfinite(row)) else np.nan for row in r2])
    config = {"lags": lags.tolist(), "test_fraction": test_fraction, "skip": int(skip)}
    return DecodingResult(lags, mean, r2, ridge, seed, config)
