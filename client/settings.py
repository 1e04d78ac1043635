"""The keys of a site.toml table, each declared once: its parser reads the declaration, the reference prints it.

``python -m client.site_config_reference`` renders every table's declarations as docs/site-toml.md,
so the documented keys, types and defaults are the ones the parser applies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class _Required:
    """The default of a key that has none: site.toml must give it."""

    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _Required()
"""Default of a required key."""


@dataclass(frozen=True)
class Setting:
    """One key of a site.toml table.

    Attributes
    ----------
    key : str
        The key as written in site.toml.
    kind : str
        Its TOML type, in words ("string", "array of integers", ...).
    meaning : str
        What it sets, in one or two sentences (Markdown).
    default : Any
        The value when the key is absent; ``NO_DEFAULT`` when it is required, None when absence has
        a meaning of its own that ``meaning`` states.
    unit : str
        Unit of a number, "" when it has none.
    """

    key: str
    kind: str
    meaning: str
    default: Any = NO_DEFAULT
    unit: str = ""

    @property
    def required(self) -> bool:
        """Whether site.toml must give the key."""
        return self.default is NO_DEFAULT

    def read(self, table: Mapping[str, Any]) -> Any:
        """The key's value in ``table``, or its default when absent (``NO_DEFAULT`` for a missing required key)."""
        return table.get(self.key, self.default)


def unknown_keys(where: str, table: Mapping[str, Any], settings: Sequence[Setting], problems: list[str]) -> None:
    """Append to ``problems`` a message for every key of ``table`` that ``settings`` do not declare.

    Parameters
    ----------
    where : str
        How the message names the table, e.g. "[site]".
    table : Mapping
        The table as read from site.toml.
    settings : Sequence of Setting
        The table's declared keys.
    problems : list of str
        Appended to, one message per unknown key.
    """
    keys = [setting.key for setting in settings]
    for key in sorted(set(table) - set(keys)):
        problems.append(f"{where} {key} is not a setting; use one of {keys}")


def read_table(table: Mapping[str, Any], settings: Sequence[Setting]) -> dict[str, Any]:
    """Key -> value of every declared key: the table's, or the default (``NO_DEFAULT`` for a missing required key)."""
    return {setting.key: setting.read(table) for setting in settings}


def component_failure_codes(
    table: Mapping[str, Any], components: Sequence[str], failure_codes: set[int], listed_under: str, problems: list[str]
) -> dict[str, tuple[int, ...]]:
    """A site.toml's [status.components]: component -> the status codes that are its failures.

    Each component must be one of ``components``, each code one of ``failure_codes`` (the codes
    ``listed_under`` names in site.toml) and no code another component's; every problem is appended
    to ``problems``.
    """
    read: dict[str, tuple[int, ...]] = {}
    for component, codes in table.items():
        if component not in components:
            problems.append(
                f"[status.components] {component} is not a component category; use one of {list(components)}"
            )
        elif not isinstance(codes, list) or not all(isinstance(c, int) and c in failure_codes for c in codes):
            problems.append(
                f"[status.components] {component} = {codes!r}; give a list of status codes that are also listed "
                f"under {listed_under}"
            )
        elif claimed := [c for c in codes if any(c in other for other in read.values())]:
            problems.append(f"[status.components] {component}: codes {claimed} are another component's already")
        else:
            read[component] = tuple(codes)
    return read
