"""The README stays true: it starts with the two commands and documents every setting."""

from __future__ import annotations

from pathlib import Path

from qa.settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")


def test_readme_starts_with_make_run_and_make_test() -> None:
    first_block = README.split("```", 2)[1]
    assert "make run" in first_block and "make test" in first_block


def test_every_setting_is_documented() -> None:
    for name, field in Settings.model_fields.items():
        assert f"`QA_{name.upper()}`" in README, name
        assert field.description, f"{name} has no description"
