"""An operator's site.toml copied to a folder of its own: the files it names found from there, the rest as written.

A site.toml names its export and event log relative to itself (``[source] files``, ``[events]
files``), so a copy elsewhere names the files the original matched, as absolute paths. The copy is
edited statement by statement, as :mod:`tomllib` reads them: the operator's comments, order and
spelling stay as they were, and a ``files`` key of another table is never touched.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from client.site_config import SiteConfig
from client.solar.site_config import SolarSiteConfig

MEMBERSHIP = "member"
"""The table that pins a site's member key and roster (relative to site.toml); a copy joins a roster of its own."""


@dataclass(frozen=True)
class Statement:
    """One statement of a TOML document, as its lines: a table header, a key and its value, or a blank or comment line.

    ``table`` is the table the statement belongs to (a header: the table it opens), ``values`` what
    :func:`tomllib.loads` reads from the lines alone (a header: ``{}``).
    """

    text: str
    table: tuple[str, ...]
    values: dict[str, Any]
    header: bool


def toml_statements(text: str) -> list[Statement]:
    """``text`` split into its statements, in order; joined, their texts are ``text``.

    A statement is the shortest run of lines that TOML reads on its own: one line, or a value's
    lines up to the one that closes it (a multi-line array or string).

    Raises
    ------
    ValueError
        If ``text`` ends inside a value (not a TOML document).
    """
    found: list[Statement] = []
    table: tuple[str, ...] = ()
    lines: list[str] = []
    for line in text.splitlines(keepends=True):
        lines.append(line)
        chunk = "".join(lines)
        try:
            values = tomllib.loads(chunk)
        except tomllib.TOMLDecodeError:
            continue  # a value that goes on over the next line
        header = chunk.lstrip().startswith("[")  # a key never starts with a bracket
        if header:
            table = _header_table(values)
        found.append(Statement(chunk, table, {} if header else values, header))
        lines = []
    if lines:
        raise ValueError(f"not a TOML document: it ends inside a value ({''.join(lines).strip()[:60]!r})")
    return found


def _header_table(values: dict[str, Any]) -> tuple[str, ...]:
    """The table a header opens, from what it reads alone (``[status.components]``: ``{"status": {"components": {}}}``).

    An array of tables' header, ``[[inverters]]``, opens its next element.
    """
    names: list[str] = []
    level: Any = values
    while level:
        name, level = next(iter(level.items()))
        names.append(name)
        if isinstance(level, list):  # an array of tables, [[inverters]]: its element
            level = level[-1]
    return tuple(names)


def site_copy(site_config: Path, site: SiteConfig | SolarSiteConfig, folder: Path) -> Path:
    """``site_config`` (read as ``site``) copied into ``folder`` as site.toml; return the copy.

    ``[source] files`` and ``[events] files`` become the files the original matched, as absolute
    paths (the export and event log are read where they lie, never copied); the ``[member]`` table,
    whose key and roster lie beside the original, is left out. Everything else is the operator's text.

    Raises
    ------
    ValueError
        If a ``files`` key is written other than as a line of its own table (an inline table, a dotted
        key): the copy would not name the files it must.
    """
    text = Path(site_config).read_text(encoding="utf-8")
    absolute = {("source",): site.files}
    if site.events is not None:
        absolute[("events",)] = site.events.files
    lines = []
    for statement in toml_statements(text):
        if statement.table[:1] == (MEMBERSHIP,) and (statement.header or statement.values):
            continue  # its comments and blank lines stay: they may introduce the table after it
        if statement.table in absolute and set(statement.values) == {"files"}:
            lines.append(f"files = {_toml_paths(absolute[statement.table])}\n")
            continue
        lines.append(statement.text)
    copied = "".join(lines)
    expected = tomllib.loads(text)
    expected.pop(MEMBERSHIP, None)
    for (table,), files in absolute.items():
        expected[table]["files"] = [path.resolve().as_posix() for path in files]
    if tomllib.loads(copied) != expected:
        tables = " and ".join(f"[{table}]" for (table,) in absolute)
        raise ValueError(
            f"{site_config}: onboarding names your files in its copy by absolute paths, which it can write only "
            f"where files = [...] is a line of its own under {tables}; write it so (not in an inline table)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / "site.toml"
    copy.write_text(copied, encoding="utf-8")
    return copy


def _toml_paths(files: Sequence[Path]) -> str:
    """``files`` as a TOML array of absolute paths (a JSON string is a TOML basic string: the escapes are TOML's)."""
    return "[" + ", ".join(json.dumps(path.resolve().as_posix(), ensure_ascii=False) for path in files) + "]"
