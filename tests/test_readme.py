"""The README stays true: it starts with the two commands and documents every setting, in tables
generated from the settings' fields (`python -m qa.settings_doc` writes them)."""

from __future__ import annotations

from pathlib import Path

from qa.settings import env_names, fields
from qa.settings_doc import block

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text("utf-8")


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


def test_how_it_works_names_every_module() -> None:
    """The README's "How it works" table matches the layout, module for module: every module of index/,
    qa/ and ui/ is named there, by its path or by its package's path and its name on one line."""
    section = README[README.index("## How it works") :]
    section = section[: section.index("\n## ", 5)]
    lines = section.splitlines()
    unnamed = []
    for p in sorted(p for d in ("index", "qa", "ui") for p in (ROOT / d).rglob("*.py")):
        if p.name in ("__init__.py", "__main__.py"):
            continue
        rel = p.relative_to(ROOT).as_posix()
        package = p.parent.relative_to(ROOT).as_posix() + "/"
        if rel not in section and not any(package in ln and f"`{p.name}`" in ln for ln in lines):
            unnamed.append(rel)
    assert unnamed == []
