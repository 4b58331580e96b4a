"""Figures of the wave analyses (:mod:`neurodyn.analysis.waves`).

Each function draws on the Axes it is given (or a new one), labels axes with
units, returns the Axes and never calls ``show``.
"""

from __future__ import annotations

import numpy as np

from ..analysis.waves import CirculantSpectrum, DecodingResult, SpaceTime, WaveSpectrum

__all__ = [
    "plot_circulant_spectrum",
    "plot_decoding",
    "plot_space_time",
    "plot_wave_spectrum",
]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def plot_space_time(st: SpaceTime, *, channel: int = 0, trial: int = 0, ax=None):
    """One channel's activity as an image: neuron (vertical) against time (horizontal).

    A traveling wave appears as diagonal bands; their slope is the speed.

    Parameters
    ----------
    st : SpaceTime
        Of :func:`~neurodyn.analysis.waves.space_time`.
    channel : int
        Which channel to draw.
    trial : int
        Which trial to draw.
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from neurodyn.analysis.waves import space_time, wave_spectrum
    >>> t, j = np.meshgrid(np.arange(64), np.arange(32), indexing="ij")
    >>> wave = np.cos(2 * np.pi * 3 * (j + t) / 32)  # 32 neurons, one per step down
    >>> st = space_time(wave[None], n_channels=1)
    >>> ax = plot_space_time(st)
    >>> ax.get_title(), ax.images[0].get_array().shape
    ('channel 0, trial 0', (32, 64))
    >>> plt.close(ax.figure)
    """
    if not isinstance(st, SpaceTime):
        raise ValueError(f"st must be a SpaceTime (see space_time), got {type(st).__name__}")
    if not 0 <= channel < st.n_channels or not 0 <= trial < st.images.shape[0]:
        raise ValueError(
            f"channel={channel!r} and trial={trial!r} must index the {st.n_channels} channels "
            f"and {st.images.shape[0]} trials"
        )
    ax = _axes(ax)
    img = st.images[trial, channel].T
    T = img.shape[1]
    ax.imshow(
        img,
        aspect="auto",
        origin="lower",
        cmap="viridis",
        interpolation="nearest",
        extent=(0.5 * st.dt, (T + 0.5) * st.dt, -0.5, img.shape[0] - 0.5),
    )
    ax.set(xlabel="time (ms)", ylabel="neuron", title=f"channel {channel}, trial {trial}")
    return ax


def plot_wave_spectrum(spec: WaveSpectrum, *, channel: int | None = None, ax=None):
    """Log power over spatial (x) and temporal (y) frequency, with the fitted wave line.

    ``channel=None`` sums the channels.

    Parameters
    ----------
    spec : WaveSpectrum
        Of :func:`~neurodyn.analysis.waves.wave_spectrum`.
    channel : int, optional
        Which channel's power to draw; default: the sum over channels.
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from neurodyn.analysis.waves import space_time, wave_spectrum
    >>> t, j = np.meshgrid(np.arange(64), np.arange(32), indexing="ij")
    >>> wave = np.cos(2 * np.pi * 3 * (j + t) / 32)  # 32 neurons, one per step down
    >>> spec = wave_spectrum(wave)
    >>> round(spec.velocity, 2)
    -1.0
    >>> ax = plot_wave_spectrum(spec)
    >>> ax.get_title().startswith("v = -1.00 neurons/step")
    True
    >>> plt.close(ax.figure)
    """
    if not isinstance(spec, WaveSpectrum):
        raise ValueError(f"spec must be a WaveSpectrum, got {type(spec).__name__}")
    ax = _axes(ax)
    power = spec.power.sum(0) if channel is None else spec.power[channel]
    ot, ox = np.argsort(spec.freq_time), np.argsort(spec.freq_space)
    p = power[ot][:, ox]
    ft, kx = spec.freq_time[ot], spec.freq_space[ox]
    ax.pcolormesh(kx, ft, np.log10(p + p.max() * 1e-9), shading="nearest", cmap="magma")
    k = np.linspace(kx.min(), kx.max(), 200)
    line = (-spec.velocity * k + 0.5) % 1.0 - 0.5
    jumps = np.flatnonzero(np.abs(np.diff(line)) > 0.5)
    for seg in np.split(np.arange(len(k)), jumps + 1):
        ax.plot(k[seg], line[seg], "c--", lw=1)
    ax.set(
        xlabel="spatial frequency (cycles/neuron)",
        ylabel="temporal frequency (cycles/step)",
        title=f"v = {spec.velocity:+.2f} neurons/step, {100 * spec.diagonal_fraction:.0f}% "
        "of power on the line",
    )
    return ax


def plot_circulant_spectrum(
    spec: CirculantSpectrum, *, channels: bool = False, ax=None, label: str | None = None, **kwargs
):
    """Eigenvalues of the recurrent convolution in the complex plane, with the unit circle.

    ``channels=True`` shows each channel's own circulant block instead of the full matrix.

    Parameters
    ----------
    spec : CirculantSpectrum
        Of :func:`~neurodyn.analysis.waves.circulant_spectrum`.
    channels : bool
        Draw every channel's own block's eigenvalues instead of the full matrix's.
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.
    label : str, optional
        Legend entry of the eigenvalues (a legend is drawn when given).
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot` (``ms`` defaults to 4).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    The shift kernel's eigenvalues on a ring of 8 neurons are the 8th roots of unity:

    >>> import matplotlib.pyplot as plt
    >>> from neurodyn.analysis.waves import circulant_spectrum
    >>> kernel = np.zeros((1, 1, 3))
    >>> kernel[0, 0, 2] = 1.0
    >>> ax = plot_circulant_spectrum(circulant_spectrum(kernel, 8), label="shift")
    >>> len(ax.lines[1].get_xdata()), [t.get_text() for t in ax.get_legend().get_texts()]
    (8, ['shift'])
    >>> plt.close(ax.figure)
    """
    if not isinstance(spec, CirculantSpectrum):
        raise ValueError(f"spec must be a CirculantSpectrum, got {type(spec).__name__}")
    ax = _axes(ax)
    theta = np.linspace(0, 2 * np.pi, 400)
    ax.plot(np.cos(theta), np.sin(theta), color="0.6", lw=0.8)
    lam = spec.channel_eigenvalues.reshape(-1) if channels else spec.eigenvalues
    ax.plot(lam.real, lam.imag, ".", ms=kwargs.pop("ms", 4), label=label, **kwargs)
    ax.set(
        xlabel="Re λ",
        ylabel="Im λ",
        aspect="equal",
        title="channel blocks" if channels else "recurrent convolution",
    )
    if label is not None:
        ax.legend(fontsize="small")
    return ax


def plot_decoding(results, *, labels=None, ax=None):
    """Held-out R² of the input L steps ago against the lag L, one line per result.

    Parameters
    ----------
    results : DecodingResult or list of DecodingResult
        Of :func:`~neurodyn.analysis.waves.decode_past_inputs`.
    labels : list of str, optional
        A legend entry per result (a legend is drawn when any is given).
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    A shift register holding the last three inputs decodes lags 0 to 2 perfectly
    and nothing older:

    >>> import matplotlib.pyplot as plt
    >>> from neurodyn.analysis.waves import decode_past_inputs
    >>> x = np.random.default_rng(0).normal(size=(20, 50, 1))
    >>> states = np.concatenate([np.roll(x, k, axis=1) for k in range(3)], axis=2)
    >>> result = decode_past_inputs(states, x, lags=range(6), skip=3)
    >>> bool(np.all(result.r2[:3] > 0.99)), bool(np.all(result.r2[3:] < 0.2))
    (True, True)
    >>> ax = plot_decoding(result, labels=["shift register"])
    >>> ax.lines[0].get_label(), ax.get_xlabel()
    ('shift register', 'lag (steps)')
    >>> plt.close(ax.figure)
    """
    if isinstance(results, DecodingResult):
        results = [results]
    results = list(results)
    if not results or not all(isinstance(r, DecodingResult) for r in results):
        raise ValueError("results must be a DecodingResult or a list of them")
    labels = labels or [None] * len(results)
    if len(labels) != len(results):
        raise ValueError(f"labels has {len(labels)} entries; expected {len(results)}")
    ax = _axes(ax)
    for r, lab in zip(results, labels, strict=True):
        ax.plot(r.lags, r.r2, "-o", ms=3, label=lab)
    ax.axhline(0, color="0.7", lw=0.8)
    ax.set(
        xlabel="lag (steps)",
        ylabel="held-out R²",
        title="Decoding the past input",
        ylim=(min(-0.05, ax.get_ylim()[0]), 1.02),
    )
    if any(lab is not None for lab in labels):
        ax.legend(fontsize="small")
    return ax
