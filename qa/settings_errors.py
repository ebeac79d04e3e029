"""A bad setting value in words: which variable set it, what it was and what the field takes, in one
line (`load_settings` in qa/settings.py raises it as a SettingsError; the CLI prints it and exits 1)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from types import UnionType
from typing import Literal, Union, get_args, get_origin

import annotated_types as at
from dotenv import dotenv_values
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

# What the settings module gives this one (passed in, so the two modules do not import each other): a
# field's env names (nested, flat, older) and its flat name.
Names = Callable[[str, str, FieldInfo], tuple[str, str, list[str]]]
Flat = Callable[[str, FieldInfo], str]


def explain(error: ValidationError, sections: Mapping[str, type[BaseModel]], names: Names, flat: Flat) -> str:
    """One line for the first bad value: where it came from, what it was, what is allowed. `sections`:
    the settings' sections by name; `names` and `flat`: how a field is named in the environment."""
    problems = error.errors()
    first = problems[0]
    loc = [str(p) for p in first["loc"]]
    more = f" ({len(problems) - 1} more bad setting(s) after it)" if len(problems) > 1 else ""
    if len(loc) < 2 or loc[0] not in sections or loc[1] not in sections[loc[0]].model_fields:
        return f"A setting is not valid ({first['msg']}){more}; check the QA_ environment variables and .env."
    section, name = loc[0], loc[1]
    field = sections[section].model_fields[name]
    where = _given_as(names(section, name, field), flat(name, field))
    default = field.get_default(call_default_factory=True)
    return (
        f"{where}={first['input']!r} is not a valid setting: it must be {allowed(field)} "
        f"(default {default}); fix it or unset {where}.{more}"
    )


def _given_as(env_names: tuple[str, str, list[str]], flat_name: str) -> str:
    """The environment variable that set a field (nested before flat, the process before `.env`), or its
    flat name when it came from a keyword."""
    nested, flat, also = env_names
    environ = {k.upper(): v for k, v in os.environ.items()}
    dotenv = {k.upper(): v for k, v in dotenv_values(".env").items()} if Path(".env").is_file() else {}
    for env in (environ, dotenv):
        for candidate in (nested, flat, *also):
            if candidate in env:
                return candidate
    return flat_name


def allowed(field: FieldInfo) -> str:
    """What a field takes, in words: "one of auto, ollama, llamacpp", "a whole number from 1 to 20"."""
    kind, optional = field.annotation, False
    if get_origin(kind) in (Union, UnionType):
        args = [a for a in get_args(kind) if a is not type(None)]
        kind, optional = args[0], len(args) < len(get_args(kind))
    if get_origin(kind) is Literal:
        return "one of " + ", ".join(str(a) for a in get_args(kind))
    nouns: dict[object, str] = {int: "a whole number", float: "a number", Path: "a path"}
    noun = nouns.get(kind, "text")
    low = next((f"at least {m.ge}" for m in field.metadata if isinstance(m, at.Ge)), None)
    low = low or next((f"above {m.gt}" for m in field.metadata if isinstance(m, at.Gt)), None)
    high = next((m.le for m in field.metadata if isinstance(m, at.Le)), None)
    if low and high is not None and low.startswith("at least "):
        words = f"{noun} from {low.removeprefix('at least ')} to {high}"
    else:
        words = " and ".join(
            [noun + (f" {low}" if low else ""), *([f"at most {high}"] if high is not None else [])]
        )
    return words + (", or unset" if optional else "")
