"""Sweep specifications: points from grids and lists, and every error named before any work."""

import pytest

from neurodyn.sweeps import ANALYSES, load_spec

BASE = {
    "task": "flip_flop",
    "model": "rate",
    "model_config": {"n_hidden": 8},
    "fit": {"n_steps": 5},
}


def test_a_grid_and_points_give_every_combination_once(tmp_path):
    spec = load_spec({**BASE, "grid": {"seed": [0, 1], "model": ["rate", "gru"], "n_hidden": [8, 16]},
                      "points": [{"model": "lstm", "seed": 7}]})  # fmt: skip
    assert len(spec) == 2 * 2 * 2 + 1
    assert spec.parameters == ("seed", "model", "n_hidden")
    names = [p.name for p in spec.points]
    assert len(set(names)) == len(names) and names[0] == "seed=0,model=rate,n_hidden=8"
    last = spec.points[-1]
    assert last.name == "seed=7,model=lstm" and last.run["model_config"]["n_hidden"] == 8
    assert last.run["model"] == "lstm" and last.run["seed"] == 7
    gru = next(p for p in spec.points if p.values == {"seed": 1, "model": "gru", "n_hidden": 16})
    assert gru.run["model_config"] == {"n_hidden": 16} and gru.run["fit"] == {"n_steps": 5}


def test_toml_and_dict_give_the_same_sweep(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        'task = "flip_flop"\nmodel = "rate"\n[model_config]\nn_hidden = 8\n[fit]\nn_steps = 5\n'
        "[analyses.fixed_points]\nn_inits = 32\n[grid]\nseed = [0, 1]\nlr = [0.01, 0.001]\n"
    )
    from_toml = load_spec(path)
    from_dict = load_spec({**BASE, "analyses": {"fixed_points": {"n_inits": 32}},
                           "grid": {"seed": [0, 1], "lr": [0.01, 0.001]}})  # fmt: skip
    assert from_toml.points == from_dict.points and from_toml.analyses == from_dict.analyses
    assert from_toml.points[1].run["fit"] == {"n_steps": 5, "lr": 0.001}
    assert from_toml.analyses["fixed_points"] == {**ANALYSES["fixed_points"], "n_inits": 32}


def test_no_variations_is_the_base_run():
    spec = load_spec(BASE)
    assert len(spec) == 1 and spec.points[0].name == "base" and spec.parameters == ()


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"modle": "gru"}, "Did you mean 'model'"),
        ({"model": "gur"}, "Did you mean 'gru'"),
        ({"grid": {"n_hiden": [8]}}, "Did you mean 'n_hidden'"),
        ({"grid": {"seed": []}}, "grid.seed must be a non-empty list"),
        ({"grid": {"seed": [0, 0]}}, "grid.seed repeats a value"),
        ({"grid": {"seed": [0, 1]}, "points": [{"seed": 1}]}, "repeats the run"),
        ({"grid": {"n_hidden": [8, -3]}}, "point {'n_hidden': -3}: n_hidden must be"),
        ({"grid": {"lr": [0.1, -1.0]}}, "lr"),
        ({"grid": {"dt": [10.0]}}, "write 'model_config.dt' or 'task_config.dt'"),
        ({"grid": {"model": ["rate", "gru"], "dale": [True]}}, "point .*'gru'.*no option 'dale'"),
        ({"task_config": {"n_bitz": 2}}, "Did you mean 'n_bits'"),
        ({"fit": {"n_steps": 5, "seed": 3}}, "fit.seed is set by the sweep"),
        ({"analyses": {"fixed_point": {}}}, "Did you mean 'fixed_points'"),
        ({"analyses": {"fixed_points": {"n_init": 3}}}, "Did you mean 'n_inits'"),
        ({"analyses": {"fixed_points": {"n_inits": 0}}}, "n_inits"),
        ({"analyses": {"lyapunov": {}}}, "add \\[analyses.attractors\\]"),
        ({"points": {"seed": 1}}, "points must be a list"),
        ({"seed": -1}, "seed"),
    ],
)
def test_every_error_names_its_option(change, match):
    with pytest.raises(ValueError, match=match):
        load_spec({**BASE, **change})


def test_a_bad_file_is_named(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        load_spec(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text("task = [")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_spec(tmp_path / "bad.toml")
