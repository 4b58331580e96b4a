"""Activity of many tasks whose task variances are known by construction.

Trials are laid out as :func:`neurodyn.simulate` labels them: ``rates`` (trial, time,
unit), the task of each trial in the ``rule`` coordinate, ``length`` (later steps are
padding), period edges ``fixation_on/off`` and ``stimulus_on/off`` in ms and
``attrs["dt"]``. Step s lies in a period with edges [on, off) when on <= s·dt < off.
"""

import numpy as np
import xarray as xr

DT = 20.0


def planted_activity(selective, *, n_trials=40, n_fix=5, n_stim=15, seed=0, noise=0.0):
    """Units that vary across trials only in the tasks they are selective to.

    Parameters
    ----------
    selective : bool array (unit, task)
        Unit i varies with the trial's stimulus condition in task A iff
        ``selective[i, A]``; elsewhere its activity follows the same time course in
        every trial (zero variance across trials).
    n_trials : trials per task.
    n_fix, n_stim : steps of the fixation and stimulus periods.
    noise : standard deviation of independent noise added to every rate.

    Returns
    -------
    xarray.Dataset with tasks named "T0", "T1", ...
    """
    selective = np.asarray(selective, dtype=bool)
    n_unit, n_task = selective.shape
    rng = np.random.default_rng(seed)
    n_steps = n_fix + n_stim
    time_course = np.linspace(0.2, 1.0, n_steps)[:, None] * rng.uniform(0.5, 1.5, n_unit)
    phase = rng.uniform(0, 2 * np.pi, n_unit)
    # The stimulus conditions: an even grid of directions, the same in every task (as
    # in the paper's analysis trials), so that cos(theta + phase) has variance 1/2 in
    # every task a unit is selective to, whatever its phase.
    theta = 2 * np.pi * np.arange(n_trials) / n_trials
    rates, rule = [], []
    for a in range(n_task):
        tuning = np.cos(theta[:, None] + phase[None, :]) * selective[:, a]  # (trial, unit)
        r = np.broadcast_to(time_course, (n_trials, n_steps, n_unit)).copy()
        r[:, n_fix:] += tuning[:, None, :]
        rates.append(r)
        rule += [f"T{a}"] * n_trials
    rates = np.concatenate(rates) + noise * rng.standard_normal(
        (n_task * n_trials, n_steps, n_unit)
    )
    n = len(rule)
    return xr.Dataset(
        {"rates": (("trial", "time", "unit"), rates)},
        coords={
            "trial": np.arange(n),
            "time": (np.arange(n_steps) + 1) * DT,
            "unit": np.arange(n_unit),
            "ei": ("unit", np.where(np.arange(n_unit) % 5 == 4, -1, 1)),
            "rule": ("trial", rule),
            "length": ("trial", np.full(n, n_steps)),
            "fixation_on": ("trial", np.zeros(n)),
            "fixation_off": ("trial", np.full(n, n_fix * DT)),
            "stimulus_on": ("trial", np.full(n, n_fix * DT)),
            "stimulus_off": ("trial", np.full(n, n_steps * DT)),
        },
        attrs={"dt": DT},
    )


def group_selectivity(groups, n_task):
    """Selectivity (unit, task) of consecutive groups of units, each to a set of tasks.

    ``groups`` is a list of (number of units, tasks the group is selective to).
    """
    rows = []
    for size, tasks in groups:
        row = np.zeros(n_task, dtype=bool)
        row[list(tasks)] = True
        rows += [row] * size
    return np.array(rows)
