"""Every word a learner reads, by key, from one message catalog per language.

Catalogs are TOML files in ``templates/lang/`` (``en.toml``, ``zh.toml``, ``de.toml``):
tables group the keys, values are ``str.format`` templates with named placeholders.
English is complete by definition; a test checks that every other catalog has every
English key with the same placeholders, so adding a language is adding one file.
Variable names (``hidden_layer_input``, ``d_output``, ...) are code and never translated.
"""
from __future__ import annotations

import string
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path

from .errors import ConfigError

DEFAULT = "en"


def templates():
    """The templates folder: package data when installed (the wheel maps the repository's
    ``templates/`` to ``stepviz.templates``), the repository folder in a source checkout."""
    try:
        return resources.files("stepviz.templates")
    except ModuleNotFoundError:  # imported from a checkout, not through the installed finder
        return Path(__file__).resolve().parent.parent / "templates"


def catalog_files():
    return templates().joinpath("lang")


def languages() -> tuple[str, ...]:
    return tuple(sorted(f.name[:-5] for f in catalog_files().iterdir() if f.name.endswith(".toml")))


def _flatten(table: dict, prefix: str = "") -> dict[str, str]:
    out = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


@cache
def catalog(lang: str) -> dict[str, str]:
    """The flat {key: template} of one language."""
    if lang not in languages():
        raise ConfigError(f"workbook.lang: expected one of {', '.join(languages())}, got {lang!r}")
    return _flatten(tomllib.loads(catalog_files().joinpath(lang + ".toml").read_text("utf-8")))


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class Messages:
    """``msg(key, **values)``: the text of ``key`` in one language (English where a
    catalog lacks a key, which the tests forbid for the shipped catalogs)."""

    def __init__(self, lang: str = DEFAULT):
        self.lang = lang
        self.table = catalog(lang)
        self.english = catalog(DEFAULT)

    def __call__(self, key: str, **values) -> str:
        template = self.table.get(key)
        if template is None:
            template = self.english[key]  # KeyError: a key the code uses but English lacks
        return template.format(**values)

    def get(self, key: str, default: str | None = None) -> str | None:
        """The text of ``key`` without placeholders, or ``default`` when no catalog has it."""
        return self.table.get(key, self.english.get(key, default))
