"""What a non-editable install ships: every package folder of the source tree.

An editable install finds a package that setup.cfg forgets, so only this test notices
a folder that a wheel would leave out.
"""

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _setup_cfg():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return cfg


def _listed(cfg, key):
    return [line.strip() for line in cfg["options"][key].splitlines() if line.strip()]


def test_every_package_folder_is_listed_in_setup_cfg():
    cfg = _setup_cfg()
    mapping = dict(line.split(" = ") for line in _listed(cfg, "package_dir"))
    found = set()
    for name, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder).parts
            if "__pycache__" not in relative:
                found.add(".".join([name, *relative]))
    assert found == set(_listed(cfg, "packages"))
