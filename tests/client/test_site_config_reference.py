"""docs/site-toml.md is the code's own declaration of site.toml, and the parser reads every key it lists."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

from client.policy import POLICY_SETTINGS, SitePolicy
from client.schema import CHANNELS
from client.site_config import COLUMNS, SETTINGS, SiteConfigError, Turbine, load_site_config
from client.site_config_reference import site_toml_reference
from protos.domain import AVAILABILITY_CATEGORIES, COMPONENTS
from protos.roster import Roster, member_table, read_public_key, write_member_key

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE = REPO_ROOT / "docs" / "site-toml.md"

# A site.toml that sets every key of every table (the [member] table is added with real keys by _every_key_site).
EVERY_KEY = """
[site]
kind = "wind"
name = "north"
timezone = "Europe/Berlin"
elevation_m = 320

[source]
files = ["export.csv"]
format = "csv"
delimiter = ";"
decimal = ","
thousands = "."
encoding = "utf-8"
resolution = "10min"
layout = "long"
only_listed_turbines = true
timestamps = "end"
utc_offsets = "ignore"
time_format = "%d.%m.%Y %H:%M"

[columns]
time = "Zeit"
asset_id = "WEA"
WTUR_TurSt = "S"
WTUR_W = "P"
WMET_HorWdSpd = "V"
WMET_HorWdDir = "D"
WMET_EnvTmp = "T"
WMET_EnvPres = "p"
WMET_EnvHum = "H"
WROT_BlPthAngVal = "Pitch"
WMET_HorWdDirRel = "Vane"
WTRM_GbxBrgTmp = "Gbx"
WGEN_GnBrgTmp = "Gen"

[units]
WTUR_W = "W"
WMET_EnvPres = "hPa"

[sentinels]
WMET_EnvTmp = [-273.2]

[status]
normal = [0]

[status.categories]
full_performance = [0]
forced_outage = [1, 41]

[status.components]
gearbox = [41]

[policy]
min_participants = 5
min_reconstruction_threshold = 3
max_colluding_members = 1
min_k_operators = 5
allowed_statistics = ["RECORD_COUNT", "SUM_POWER"]
require_differential_privacy = true
privacy_epsilon_per_year = 2.0
privacy_delta = 1e-7
max_cohorts = 16
max_bins = 500
max_block_elements = 1000000
max_memory_mib = 1024

[[turbines]]
asset_id = "A1"
model = "E-82/2300"
rated_power_kw = 2300
rotor_diameter_m = 82
hub_height_m = 98
regulation = "pitch"
iec_wind_class = "IIA"
commissioning_date = 2012-05-01
anemometer = "nacelle"
nacelle_transfer_function = { nacelle_m_s = [3.0, 8.0, 16.0], free_stream_m_s = [3.3, 8.6, 17.0] }
"""


def _every_key_site(tmp_path: Path, extra: str = "") -> Path:
    """EVERY_KEY with a [member] table whose key and roster exist, and ``extra`` lines at the end."""
    _, public = write_member_key(tmp_path / "consortium", "north")
    roster = Roster.of("test consortium", {"north": read_public_key(public)})
    (tmp_path / "consortium" / "roster.json").write_text(roster.to_json())
    (tmp_path / "export.csv").write_text("Zeit;WEA;P;V;T\n")
    path = tmp_path / "site.toml"
    path.write_text(member_table("north", roster.sha256) + EVERY_KEY + extra)
    return path


def _section(text: str, heading: str) -> str:
    """The Markdown section under ``## heading``, up to the next one."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, flags=re.MULTILINE | re.DOTALL)
    assert match, f"no section {heading} in the reference"
    return match.group(1)


def test_the_committed_reference_is_the_generated_one():
    assert REFERENCE.read_text(encoding="utf-8") == site_toml_reference(), (
        "docs/site-toml.md is stale: python -m client.site_config_reference > docs/site-toml.md"
    )


def test_the_example_sets_every_declared_key_and_the_parser_accepts_it(tmp_path: Path):
    raw = tomllib.loads(_every_key_site(tmp_path).read_text())
    tables = [table for table in SETTINGS if table != "events"]  # in place of the status column: the test below
    written = {table: set(raw[table][0] if table == "turbines" else raw[table]) for table in tables}
    written["status"] |= {"categories", "components"}  # sub-tables, read as keys of [status]
    assert written == {table: {s.key for s in SETTINGS[table]} for table in tables}
    assert set(raw["columns"]) == set(COLUMNS)
    site = load_site_config(tmp_path / "site.toml")
    assert site.member is not None and site.only_listed_turbines and site.policy.max_memory_mib == 1024
    assert site.timestamps == "end" and site.time_format == "%d.%m.%Y %H:%M" and site.utc_offsets == "ignore"
    assert (site.delimiter, site.decimal, site.thousands) == (";", ",", ".")
    assert site.turbines[0].nacelle_transfer_function is not None


EVENTS = """
[events]
files = ["alarms.csv"]
format = "csv"
delimiter = ";"
encoding = "cp1252"
time_format = "%d.%m.%Y %H:%M:%S"
timezone = "UTC"
asset_id = "Anlage"
start = "Beginn"
end = "Ende"
code = "Code"
"""


ALARM_EVENTS = EVENTS.replace(
    'end = "Ende"\n', 'transition = "Ereignis"\nraised = ["Kommt"]\ncleared = [" Geht"]\nignored = ["Quittiert"]\n'
)
"""The same log as one row per alarm raised, cleared or acknowledged: the keys a log with ends does not take."""


def test_an_event_log_with_every_key_is_read_in_place_of_the_status_column(tmp_path: Path):
    path = _every_key_site(tmp_path, EVENTS)
    keys = set(tomllib.loads(EVENTS)["events"]) | set(tomllib.loads(ALARM_EVENTS)["events"])
    assert keys == {s.key for s in SETTINGS["events"]}
    (tmp_path / "alarms.csv").write_text("Anlage;Beginn;Ende;Code\n")
    with pytest.raises(SiteConfigError, match=r"WTUR_TurSt and \[events\] both give the status"):
        load_site_config(path)
    path.write_text(path.read_text().replace('WTUR_TurSt = "S"\n', ""))
    site = load_site_config(path)
    assert site.events is not None and site.has_status and site.events.files == (tmp_path / "alarms.csv",)
    assert site.events.columns == {"asset_id": "Anlage", "start": "Beginn", "end": "Ende", "code": "Code"}
    assert site.events.timezone == "UTC" and site.timezone == "Europe/Berlin" and site.events.encoding == "cp1252"
    path.write_text(path.read_text().replace('timezone = "UTC"', 'timezone = "Mitteleuropa"'))
    with pytest.raises(SiteConfigError, match=r"\[events\] timezone = 'Mitteleuropa' is not an IANA zone"):
        load_site_config(path)
    path.write_text(path.read_text().replace(EVENTS.replace('"UTC"', '"Mitteleuropa"'), ALARM_EVENTS))
    alarms = load_site_config(path).events
    assert alarms is not None and alarms.columns["transition"] == "Ereignis" and "end" not in alarms.columns
    assert (alarms.raised, alarms.cleared, alarms.ignored) == (("kommt",), ("geht",), ("quittiert",))


def test_every_key_the_parser_accepts_is_in_its_section_of_the_reference():
    text = site_toml_reference()
    headings = {"turbines": "[[turbines]]"}
    for table, settings in SETTINGS.items():
        section = _section(text, headings.get(table, f"[{table}]"))
        for setting in settings:
            assert f"| `{setting.key}` |" in section, (table, setting.key)
    for heading, names in (
        ("[columns]", COLUMNS),
        ("[units]", CHANNELS),
        ("[status.categories]", AVAILABILITY_CATEGORIES),
    ):
        assert all(f"| `{name}` |" in _section(text, heading) for name in names), heading
    assert all(f"`{component}`" in _section(text, "[status.components]") for component in COMPONENTS)
    assert "[sentinels]" in text


@pytest.mark.parametrize("table", ["site", "source", "status", "events", "member", "policy", "turbines"])
def test_a_key_the_reference_does_not_list_is_refused(tmp_path: Path, table: str):
    path = _every_key_site(tmp_path, EVENTS if table == "events" else "")
    text = path.read_text()
    heading = "[[turbines]]" if table == "turbines" else f"[{table}]"
    path.write_text(text.replace(f"{heading}\n", f"{heading}\nundocumented = 1\n", 1))
    with pytest.raises(SiteConfigError, match="undocumented is not a setting"):
        load_site_config(path)


def test_the_declared_defaults_are_the_parsed_objects_own():
    policy, turbine = SitePolicy(), {f.name: f for f in dataclasses.fields(Turbine)}
    assert [s.key for s in POLICY_SETTINGS] == [f.name for f in dataclasses.fields(SitePolicy)]
    for setting in POLICY_SETTINGS:
        default = getattr(policy, setting.key)
        assert setting.default == (sorted(default) if isinstance(default, frozenset) else default), setting.key
    assert [s.key for s in SETTINGS["turbines"]] == list(turbine)
    for setting in SETTINGS["turbines"]:
        assert setting.required == (turbine[setting.key].default is dataclasses.MISSING), setting.key
        if not setting.required:
            assert setting.default == turbine[setting.key].default, setting.key
