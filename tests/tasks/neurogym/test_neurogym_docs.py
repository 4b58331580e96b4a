"""docs/neurogym.md says what the adapter does now with every installed environment."""

from pathlib import Path

import pytest

pytest.importorskip("neurogym")

from neurodyn.tasks.neurogym_adapter import survey, survey_markdown
from neurodyn.tasks.neurogym_adapter.__main__ import main

PAGE = Path(__file__).resolve().parents[3] / "docs" / "neurogym.md"


def test_documentation_page_matches_the_adapter():
    assert PAGE.read_text("utf-8") == survey_markdown(survey()), (
        "docs/neurogym.md is out of date: python -m neurodyn.tasks.neurogym_adapter "
        "--write-docs docs/neurogym.md"
    )


def test_the_page_is_written_by_the_module(tmp_path):
    assert main(["--write-docs", str(tmp_path / "page.md")]) == 0
    assert (tmp_path / "page.md").read_text("utf-8") == PAGE.read_text("utf-8")
