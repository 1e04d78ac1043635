"""The site.toml reference (docs/site-toml.md), rendered from the declarations the parser reads.

Regenerate it after changing a setting::

    python -m client.site_config_reference > docs/site-toml.md

``tests/client/test_site_config_reference.py`` fails while the committed file differs from this output.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from client.schema import CHANNELS, REQUIRED, UNIT_CONVERSIONS
from client.settings import NO_DEFAULT, Setting
from client.site_config import COLUMNS, SETTINGS
from client.solar import schema as solar_schema
from client.solar import site_config as solar_config
from protos.domain import AVAILABILITY_CATEGORIES, COMPONENTS

HEADINGS = {
    "site": "[site]",
    "source": "[source]",
    "status": "[status]",
    "events": "[events]",
    "member": "[member]",
    "turbines": "[[turbines]]",
    "policy": "[policy]",
}
"""Each table of SETTINGS as site.toml writes it (turbines is an array of tables)."""

INTRODUCTIONS = {
    "site": "Where the site is.",
    "source": "The SCADA export: where it is and how it is written.",
    "status": "What the export's status codes mean; its two sub-tables follow.",
    "events": "Optional: the turbines' status as a separate event (alarm) log instead of a `WTUR_TurSt` column, as "
    "many SCADA systems export it (`client/events.py`). Each event gives its code, which `[status]` sorts, to the "
    "records it overlaps (a 10-min record touched by a 2-minute stop counts as the stop's; where events overlap, "
    "the latest-starting one's); a record no event overlaps is normal. Events of a normal code (informational "
    "ones) change nothing; an event without duration marks no record. Times without a UTC offset are read in "
    "`[site] timezone` (in the hour clocks repeat, a start as the first pass and an end as the first not before "
    "its start). Validation names the events it left out (no time, no code, an unlisted turbine) and refuses a "
    "log that is empty, misses the export's period or whose events it cannot read.",
    "member": (
        "Who this site speaks for in a consortium, and the roster it pinned (`protos/roster.py`). Without it a site "
        "can validate, preview, compare and onboard, but takes part in no round."
    ),
    "turbines": "One table per turbine. Turbine metadata never leaves the site.",
    "policy": (
        "The operator's own rules, checked on site before anything is computed or sent (`client/policy.py`); "
        "a round, spec or block that breaks them is refused."
    ),
}
"""A sentence on each table of SETTINGS, above its keys."""


def toml_value(value: Any) -> str:
    """``value`` as site.toml writes it, in Markdown: "required" for ``NO_DEFAULT``, "none" for None."""
    if value is NO_DEFAULT:
        return "required"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, list):
        return "`[" + ", ".join(f'"{item}"' if isinstance(item, str) else str(item) for item in value) + "]`"
    return f"`{value}`"


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """The lines of a Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def settings_table(settings: Sequence[Setting]) -> list[str]:
    """The lines of one table's keys: key, type, default, unit, meaning."""
    return markdown_table(
        ("key", "type", "default", "unit", "meaning"),
        ((f"`{s.key}`", s.kind, toml_value(s.default), s.unit or "-", s.meaning) for s in settings),
    )


def channel_sections() -> list[str]:
    """The lines of [columns], [units] and [sentinels], whose keys are canonical names."""
    required = ", ".join(f"`{name}`" for name in REQUIRED)
    return [
        "## [columns]",
        "",
        f"Canonical name (IEC 61400-25, as NREL OpenOA names them) = the export's column name. Required: {required} "
        "(`asset_id` not in a wide export, whose every column but `time` names its turbine with `{asset}`, e.g. "
        '`WTUR_W = "{asset}_ActivePower"`).',
        "",
        *markdown_table(
            ("key", "canonical unit", "the column holds"),
            (
                (f"`{name}`", f"`{CHANNELS[name].unit}`" if name in CHANNELS else "-", meaning)
                for name, meaning in COLUMNS.items()
            ),
        ),
        "",
        "## [units]",
        "",
        "Numeric channel = the unit the export writes it in; absent: the canonical unit. Converted on site.",
        "",
        *markdown_table(
            ("key", "canonical unit", "units accepted"),
            (
                (f"`{name}`", f"`{channel.unit}`", ", ".join(f'`"{unit}"`' for unit in UNIT_CONVERSIONS[channel.unit]))
                for name, channel in CHANNELS.items()
            ),
        ),
        "",
        "## [sentinels]",
        "",
        'Numeric channel = array of the values the export writes for "missing", in the export\'s units (e.g. '
        "`WMET_EnvTmp = [-273.2]`); they become missing values on site. Keys: the channels of [units].",
        "",
    ]


def status_sections() -> list[str]:
    """The lines of [status.categories] and [status.components]."""
    return [
        "## [status.categories]",
        "",
        "IEC 61400-26-1 information category = array of integer status codes; a code belongs to one category at most.",
        "",
        *markdown_table(
            ("key", "counts as available"),
            (
                (f"`{category}`", {True: "yes", False: "no", None: "excluded"}[available])
                for category, available in AVAILABILITY_CATEGORIES.items()
            ),
        ),
        "",
        "## [status.components]",
        "",
        "Component = array of forced-outage codes (listed under `[status.categories] forced_outage`) that are its "
        "failures, for failure rates. Keys: " + ", ".join(f"`{component}`" for component in COMPONENTS) + ".",
        "",
    ]


FOLLOWING = {"source": channel_sections, "status": status_sections}
"""Sections printed after a table of SETTINGS: the tables whose keys are names, not settings."""


SOLAR_INTRODUCTIONS = {
    "site": "A solar site says so; the rest as a wind site's.",
    "plant": "What the plant is: where, which modules, how mounted. Plant metadata never leaves the site.",
    "inverters": "One table per inverter: the export's rows are one per inverter and time.",
    "source": "The export, as a wind site's `[source]`; its resolution divides 15 minutes, and finer records are "
    "averaged to 15-min means on site.",
    "status": "What the inverter status codes mean: the available ones, and one list per loss category. A code "
    "in no list counts as unavailable without a category.",
    "events": "Optional: the inverters' status as a separate event (alarm) log instead of an `INV_St` column, "
    "as a wind site's `[events]`; a 15-min record touched by an event counts as the event's.",
    "member": "As a wind site's.",
    "policy": "As a wind site's.",
}
"""A sentence on each table of a solar site.toml."""


def solar_sections() -> list[str]:
    """The lines of the solar site.toml's tables, and its [columns] and [units]."""
    lines = [
        "# Solar sites",
        "",
        'A site.toml with `[site] kind = "solar"` describes one PV plant (`client/solar/site_config.py`, whose '
        "docstring holds an example). Its tables:",
        "",
    ]
    for table, settings in solar_config.SOLAR_SETTINGS.items():
        heading = "[[inverters]]" if table == "inverters" else f"[{table}]"
        lines += [f"## Solar {heading}", "", SOLAR_INTRODUCTIONS[table], ""]
        if table not in ("member", "policy"):
            lines += [*settings_table(settings), ""]
    channels = solar_schema.CHANNELS
    lines += [
        "## Solar [columns]",
        "",
        "IEC 61724-1 symbol = the export's column name. Required: `time`, `asset_id`, `P_out`, one irradiance "
        "(`G_i`, or `G_h` transposed on site with pvlib) and one temperature (`T_mod`, or `T_amb`). A wide "
        'export (`[source] layout = "wide"`) has no `asset_id`: a column named with `{asset}` is each '
        "inverter's (`P_out = \"{asset} AC power [kW]\"`), one without is the plant's, shared by every "
        "inverter; `P_out` and `INV_St` are each inverter's unless the plant has one.",
        "",
        *markdown_table(
            ("key", "canonical unit", "the column holds"),
            (
                (f"`{name}`", f"`{channels[name].unit}`" if name in channels else "-", meaning)
                for name, meaning in solar_config.COLUMNS.items()
            ),
        ),
        "",
        "## Solar [units] and [sentinels]",
        "",
        "As a wind site's, for the solar channels:",
        "",
        *markdown_table(
            ("key", "canonical unit", "units accepted"),
            (
                (f"`{name}`", f"`{channel.unit}`", ", ".join(f'`"{unit}"`' for unit in UNIT_CONVERSIONS[channel.unit]))
                for name, channel in channels.items()
            ),
        ),
        "",
    ]
    return lines


def site_toml_reference() -> str:
    """docs/site-toml.md: every table and key of site.toml with its type, default, unit and meaning."""
    lines = [
        "# site.toml reference",
        "",
        "<!-- Generated by `python -m client.site_config_reference > docs/site-toml.md`; do not edit by hand. -->",
        "",
        "Every key a site.toml may hold, as the parser (`client/site_config.py`, `client/policy.py`) declares and "
        "reads it. A key not listed here is refused with the list of those that are; paths are relative to "
        "site.toml. An example, and how to check a site.toml: [operator.md](operator.md).",
        "",
    ]
    for table, settings in SETTINGS.items():
        lines += [f"## {HEADINGS[table]}", "", INTRODUCTIONS[table], "", *settings_table(settings), ""]
        if table in FOLLOWING:
            lines += FOLLOWING[table]()
    return "\n".join([*lines, *solar_sections()])


if __name__ == "__main__":
    print(site_toml_reference(), end="")
