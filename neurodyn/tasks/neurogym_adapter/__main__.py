"""``python -m neurodyn.tasks.neurogym_adapter``: list or document the installed environments."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ...io.atomic import atomic_write_text
from .catalogue import survey, survey_markdown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m neurodyn.tasks.neurogym_adapter",
        description="Adapt every installed NeuroGym environment and report which adapt.",
    )
    parser.add_argument(
        "--write-docs", metavar="PATH", help="write the documentation page (docs/neurogym.md)"
    )
    args = parser.parse_args(argv)
    text = survey_markdown(survey())
    if args.write_docs:
        atomic_write_text(Path(args.write_docs), text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
