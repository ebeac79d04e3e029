"""The README stays true: it starts with the two commands and documents every setting, in tables
generated from the settings' fields (`python -m qa.settings_doc` writes them)."""

from __future__ import annotations

from pathlib import Path

from qa.settings import env_names, fields
from qa.settings_doc import block

README = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")


def test_readme_starts_with_make_run_and_make_test() -> None:
    first_block = README.split("```", 2)[1]
    assert "make run" in first_block and "make test" in first_block


def test_the_settings_tables_are_generated_from_the_fields() -> None:
    assert block() in README, "README.md settings are stale: run `python -m qa.settings_doc`"


def test_every_setting_is_documented_under_both_names() -> None:
    for section, name, field in fields():
        nested, flat, _ = env_names(section, name, field)
        assert f"| `{flat}`" in README and f"`{nested}`" in README, name
        assert field.description, f"{section}.{name} has no description"
