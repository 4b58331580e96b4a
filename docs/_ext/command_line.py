"""The ``neurodyn`` command's reference: what ``neurodyn --help`` and each
``neurodyn COMMAND --help`` print, run at build time so that the page is the program's."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)

RUN = "import sys; from neurodyn.cli import main; sys.exit(main(sys.argv[1:]))"


def help_text(*args: str) -> str:
    env = {**os.environ, "COLUMNS": "96"}
    out = subprocess.run(
        [sys.executable, "-c", RUN, *args, "--help"],
        capture_output=True, text=True, env=env, check=True, timeout=120,
    )  # fmt: skip
    return out.stdout


def commands(top: str) -> list[str]:
    """The subcommands listed under ``COMMAND`` in the top-level help."""
    block = top.split("COMMAND\n", 2)[-1]
    found = []
    for line in block.splitlines():
        match = re.match(r"^ {4}(\w[\w-]*)\s", line)
        if match:
            found.append(match.group(1))
        elif line and not line.startswith(" "):
            break
    if not found:
        raise RuntimeError(f"no subcommands found in neurodyn --help:\n{top}")
    return found


def render() -> str:
    top = help_text()
    lines = [
        "# The `neurodyn` command",
        "",
        "Every command validates its arguments before it writes anything, and exits with "
        "status 2 and one line naming the problem otherwise. This page is what the program "
        "prints with `--help`.",
        "",
        "```text",
        top.rstrip(),
        "```",
        "",
    ]
    for command in commands(top):
        lines += [f"## `neurodyn {command}`", "", "```text", help_text(command).rstrip(), "```", ""]
    return "\n".join(lines)


def generate(app) -> None:
    path = Path(app.srcdir) / "cli.md"
    text = render()
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    logger.info("command line: %s", path.name)


def setup(app):
    # Before the sources are found (builder-inited).
    app.connect("config-inited", lambda app, config: generate(app))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
