"""site.toml parsing: valid files load, every problem of a bad one is reported at once."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from client.site_config import SiteConfigError, load_site_config
from protos.fleetbench.v1 import spec_pb2

VALID = """
[site]
name = "north"
timezone = "Europe/Berlin"
elevation_m = 320
[source]
files = ["export.csv"]
format = "csv"
delimiter = ";"
decimal = ","
[columns]
time = "Zeit"
asset_id = "WEA"
WTUR_W = "P"
WMET_HorWdSpd = "V"
WTUR_TurSt = "S"
WMET_EnvTmp = "T"
[units]
WTUR_W = "W"
[status]
normal = [100, 101]
[[turbines]]
asset_id = "A1"
model = "E-82/2300"
rated_power_kw = 2300
rotor_diameter_m = 82
hub_height_m = 98
"""


def test_valid_site_config_loads(tmp_path: Path):
    (tmp_path / "export.csv").write_text("Zeit;WEA;P;V;S;T\n")
    path = tmp_path / "site.toml"
    path.write_text(VALID)
    site = load_site_config(path)
    assert site.name == "north" and site.timezone == "Europe/Berlin"
    assert site.files == (tmp_path / "export.csv",)
    assert site.units == {"WTUR_W": "W"}
    assert site.normal_status_codes == (100, 101)
    assert site.turbine("A1").rated_power_kw == 2300.0
    assert site.elevation_m == 320.0
    assert site.turbine("A1").specific_power == pytest.approx(2300e3 / (3.141592653589793 * 41.0**2))
    assert site.turbine("A1").regulation == "pitch"


def test_a_globs_files_are_read_in_natural_order_so_numbered_periods_come_in_time(tmp_path: Path):
    """A record after a later one of its turbine is left out, so export_10 must not come before export_9."""
    names = ["export_10.csv", "export_9.csv", "export_1.csv", "other.csv"]
    for name in names:
        (tmp_path / name).write_text("Zeit;WEA;P;V;S;T\n")
    path = tmp_path / "site.toml"
    path.write_text(VALID.replace('files = ["export.csv"]', 'files = ["other.csv", "export_*.csv"]'))
    order = [file.name for file in load_site_config(path).files]
    assert order == ["other.csv", "export_1.csv", "export_9.csv", "export_10.csv"]  # entries in turn, each in order


def test_every_problem_is_reported_with_its_setting_and_fix(tmp_path: Path):
    path = tmp_path / "site.toml"
    path.write_text(
        VALID.replace('timezone = "Europe/Berlin"', 'timezone = "Mars/Olympus"')
        .replace('format = "csv"', 'format = "xlsx"')
        .replace('WMET_HorWdSpd = "V"', 'Windspeed = "V"')
        .replace('WTUR_W = "W"', 'WTUR_W = "hp"')
    )
    with pytest.raises(SiteConfigError) as error:
        load_site_config(path)
    message = str(error.value)
    assert str(path) in message
    for expected in (
        "timezone",
        "Mars/Olympus",
        "format = 'xlsx'",
        "export.csv",
        "WMET_HorWdSpd is missing",
        "Windspeed is not a canonical name",
        "'hp'",
    ):
        assert expected in message
    assert "6 problem(s)" in message


def test_missing_and_malformed_files_name_the_path(tmp_path: Path):
    with pytest.raises(SiteConfigError, match="file not found"):
        load_site_config(tmp_path / "nope.toml")
    bad = tmp_path / "site.toml"
    bad.write_text("[site\nname=")
    with pytest.raises(SiteConfigError, match="not valid TOML"):
        load_site_config(bad)


def test_status_codes_map_to_iec_61400_26_categories(tmp_path: Path):
    (tmp_path / "export.csv").write_text("Zeit;WEA;P;V;S;T\n")
    path = tmp_path / "site.toml"
    text = VALID.replace(
        "[status]\nnormal = [100, 101]", "[status.categories]\nfull_performance = [100]\nforced_outage = [7, 9]"
    )
    path.write_text(text)
    site = load_site_config(path)
    assert site.status_categories == {"full_performance": (100,), "forced_outage": (7, 9)}
    assert site.normal_status_codes == (100,)  # normal defaults to full performance
    path.write_text(text.replace("forced_outage = [7, 9]", "broken_gearbox = [7]\nforced_outage = [100]"))
    with pytest.raises(SiteConfigError) as error:
        load_site_config(path)
    assert "broken_gearbox is not an IEC 61400-26 category" in str(error.value)
    assert "code 100 is in both full_performance and forced_outage" in str(error.value)


def test_failure_codes_by_component_and_commissioning_dates(tmp_path: Path):
    (tmp_path / "export.csv").write_text("Zeit;WEA;P;V;S;T\n")
    path = tmp_path / "site.toml"
    text = VALID.replace(
        "[status]\nnormal = [100, 101]",
        "[status.categories]\nfull_performance = [100]\nforced_outage = [7, 41]\n[status.components]\ngearbox = [41]",
    ).replace("hub_height_m = 98", "hub_height_m = 98\ncommissioning_date = 2012-05-01")
    path.write_text(text)
    site = load_site_config(path)
    assert site.status_components == {"gearbox": (41,)}
    assert site.turbines[0].commissioning_date == pd.Timestamp("2012-05-01", tz="UTC")
    path.write_text(
        text.replace("gearbox = [41]", "gearbox = [100]\nflux_capacitor = [7]").replace("2012-05-01", '"last spring"')
    )
    with pytest.raises(SiteConfigError) as error:
        load_site_config(path)
    message = str(error.value)
    assert "gearbox = [100]; give a list of status codes that are also listed under" in message
    assert "flux_capacitor is not a component category" in message
    assert "[[turbines]] A1: commissioning_date = 'last spring'; give an ISO 8601 date, year first" in message


def _member_site(tmp_path: Path, name: str = "north", on_roster: tuple[str, ...] = ("north", "south")) -> Path:
    """VALID with a [member] table: keys for ``on_roster`` (CLI layout) and the roster pinned as installed."""
    from protos.roster import Roster, member_table, read_public_key, write_member_key

    members = {}
    for member in on_roster:
        _, public = write_member_key(tmp_path / "consortium", member)
        members[member] = read_public_key(public)
    roster = Roster.of("test consortium", members)
    (tmp_path / "consortium" / "roster.json").write_text(roster.to_json())
    (tmp_path / "export.csv").write_text("Zeit;WEA;P;V;S;T\n")
    path = tmp_path / "site.toml"
    path.write_text(member_table(name, roster.sha256) + VALID)
    return path


def test_member_table_names_the_member_its_key_and_the_pinned_roster(tmp_path: Path):
    site = load_site_config(_member_site(tmp_path))
    assert site.member is not None and site.member.name == "north"
    key, roster = site.member.identity()
    assert roster.names == {"north", "south"} and roster.member("north").verifies(key.sign(b"x"), b"x")


def test_member_table_problems_name_the_setting(tmp_path: Path):
    path = _member_site(tmp_path)
    text = path.read_text()
    path.write_text(text.replace('roster_sha256 = "', 'pinned = "'))
    with pytest.raises(SiteConfigError, match=r"\[member\] roster_sha256 missing"):
        load_site_config(path)

    # The roster file swapped (here: renamed) without a new pin.
    path.write_text(text)
    roster = (tmp_path / "consortium" / "roster.json").read_text()
    (tmp_path / "consortium" / "roster.json").write_text(roster.replace('"consortium":"test', '"consortium":"other'))
    with pytest.raises(SiteConfigError, match=r"the site pinned .*fleetbench consortium"):
        load_site_config(path)
    (tmp_path / "consortium" / "roster.json").write_text(roster)

    # Another member's key, or a name the roster does not list.
    path.write_text(text.replace("consortium/north.member.key", "consortium/south.member.key"))
    with pytest.raises(SiteConfigError, match="is not the key the roster lists for 'north'"):
        load_site_config(path)
    path.write_text(text.replace('name = "north"\nkey', 'name = "west"\nkey'))
    with pytest.raises(SiteConfigError, match="west"):
        load_site_config(path)


def test_the_anemometer_and_its_transfer_function_set_the_wind_speed_reference(tmp_path: Path):
    (tmp_path / "export.csv").write_text("Zeit;WEA;P;V;S;T\n")
    path = tmp_path / "site.toml"
    path.write_text(VALID)
    assert load_site_config(path).turbine("A1").wind_speed_reference == spec_pb2.NACELLE_ANEMOMETER
    path.write_text(VALID + 'anemometer = "mast"\n')
    assert load_site_config(path).turbine("A1").wind_speed_reference == spec_pb2.MET_MAST
    path.write_text(VALID + "nacelle_transfer_function = { nacelle_m_s = [3, 16], free_stream_m_s = [3.2, 17] }\n")
    turbine = load_site_config(path).turbine("A1")
    assert turbine.wind_speed_reference == spec_pb2.NACELLE_TRANSFER_FUNCTION
    assert turbine.nacelle_transfer_function.free_stream_wind_speed == (3.2, 17.0)


@pytest.mark.parametrize(
    ("lines", "says"),
    [
        ('anemometer = "spinner"', "anemometer = 'spinner'; use one of ('nacelle', 'mast')"),
        (
            'anemometer = "mast"\nnacelle_transfer_function = { nacelle_m_s = [3, 16], free_stream_m_s = [3, 17] }',
            "a nacelle_transfer_function corrects a nacelle anemometer",
        ),
        (
            "nacelle_transfer_function = { nacelle_m_s = [3, 16, 10], free_stream_m_s = [3, 17, 18] }",
            "nacelle_transfer_function: nacelle_m_s and free_stream_m_s must both be strictly increasing",
        ),
        ("nacelle_transfer_function = [3, 16]", "nacelle_transfer_function"),
    ],
)
def test_anemometer_problems_name_the_turbine_and_the_fix(tmp_path: Path, lines: str, says: str):
    (tmp_path / "export.csv").write_text("Zeit;WEA;P;V;S;T\n")
    path = tmp_path / "site.toml"
    path.write_text(VALID + lines + "\n")
    with pytest.raises(SiteConfigError, match="turbines") as error:
        load_site_config(path)
    assert says in str(error.value)


def _site(tmp_path: Path, text: str = VALID) -> Path:
    """``text`` as tmp_path/site.toml, beside the export it names (and an event log, alarms.csv)."""
    (tmp_path / "export.csv").write_text("Zeit;WEA;P;V;S;T\n")
    (tmp_path / "alarms.csv").write_text("Anlage;Beginn;Ende;Code\n")
    path = tmp_path / "site.toml"
    path.write_text(text)
    return path


def _problems(path: Path) -> str:
    """The message of the SiteConfigError loading ``path`` raises."""
    with pytest.raises(SiteConfigError) as error:
        load_site_config(path)
    return str(error.value)


EVENTS = """
[events]
files = ["alarms.csv"]
delimiter = ";"
asset_id = "Anlage"
start = "Beginn"
end = "Ende"
code = "Code"
"""
"""An event log for VALID once its status column is left out (VALID_WITH_EVENTS)."""
VALID_WITH_EVENTS = VALID.replace('WTUR_TurSt = "S"\n', "") + EVENTS


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ('files = ["export.csv"]', "files = 5", "[source] files = 5; give a path or glob relative to site.toml as a"),
        ('files = ["export.csv"]', "files = [5]", "[source] files: 5 is not a path; write each path or glob as a"),
        ('files = ["export.csv"]', 'files = ["export.csv", 5]', "[source] files: 5 is not a path"),
        ('files = ["alarms.csv"]', "files = [5]", "[events] files: 5 is not a path"),
        ('files = ["alarms.csv"]', "files = { a = 1 }", "[events] files = {'a': 1}; give a path or glob"),
    ],
)
def test_files_that_are_not_strings_are_refused_naming_the_setting(tmp_path: Path, old: str, new: str, says: str):
    """A number among the files crashed the glob (TypeError); it is a problem of site.toml, with its fix."""
    assert says in _problems(_site(tmp_path, VALID_WITH_EVENTS.replace(old, new)))


def test_files_may_be_one_string_or_an_array_of_strings(tmp_path: Path):
    text = VALID_WITH_EVENTS.replace('files = ["export.csv"]', 'files = "export.csv"')
    site = load_site_config(_site(tmp_path, text.replace('files = ["alarms.csv"]', 'files = "alarms.csv"')))
    assert site.files == (tmp_path / "export.csv",) and site.events.files == (tmp_path / "alarms.csv",)


def test_a_site_toml_not_saved_as_utf8_is_refused_with_how_to_save_it(tmp_path: Path):
    path = _site(tmp_path)
    path.write_bytes(VALID.replace('name = "north"', 'name = "Nördlich"').encode("cp1252"))
    message = _problems(path)
    assert f"{path}: not UTF-8 (byte 0xf6 on line 3" in message and "save site.toml as UTF-8" in message


def test_a_site_toml_saved_as_utf8_with_a_byte_order_mark_loads(tmp_path: Path):
    """Windows editors start UTF-8 with a byte order mark, which TOML does not allow; it is skipped."""
    path = _site(tmp_path)
    path.write_bytes(VALID.replace('name = "north"', 'name = "Nördlich"').encode("utf-8-sig"))
    assert load_site_config(path).name == "Nördlich"


@pytest.mark.parametrize(
    ("resolution", "says"),
    [
        ("10", "[source] resolution = 10; give a text with its unit, e.g."),
        ("600.0", "[source] resolution = 600.0; give a text with its unit"),
        ('"10"', "[source] resolution = '10' is under 1 s; give the records' period with its unit"),
        ('"500ms"', "[source] resolution = '500ms' is under 1 s"),
        ('"7min"', "[source] resolution = '7min' must divide 10 minutes"),
        ('"ten minutes"', "[source] resolution = 'ten minutes'; use e.g."),
    ],
)
def test_a_resolution_must_be_a_period_of_at_least_a_second(tmp_path: Path, resolution: str, says: str):
    """A bare 10 was read as 10 nanoseconds."""
    message = _problems(_site(tmp_path, VALID.replace('format = "csv"', f'format = "csv"\nresolution = {resolution}')))
    assert says in message and "1 problem(s)" in message


@pytest.mark.parametrize(("resolution", "period"), [('"1s"', "1s"), ('"1min"', "1min"), ('"10min"', "10min")])
def test_a_resolution_with_its_unit_loads(tmp_path: Path, resolution: str, period: str):
    path = _site(tmp_path, VALID.replace('format = "csv"', f'format = "csv"\nresolution = {resolution}'))
    assert load_site_config(path).resolution == pd.Timedelta(period)


@pytest.mark.parametrize("date", ['"01.03.2012"', '"03/01/2012"', '"1 March 2012"', '"2012-3-1"', "08:00:00"])
def test_a_commissioning_date_not_in_iso_8601_is_refused(tmp_path: Path, date: str):
    """pandas read "01.03.2012" month first, as 3 January: only year-first ISO dates are taken."""
    message = _problems(_site(tmp_path, VALID + f"commissioning_date = {date}\n"))
    assert "[[turbines]] A1: commissioning_date = " in message
    assert "give an ISO 8601 date, year first: YYYY-MM-DD, e.g. 2012-05-01" in message
    assert "1 problem(s)" in message  # not the required keys' message besides


@pytest.mark.parametrize(
    ("date", "utc"),
    [
        ("2012-03-01", "2012-03-01"),
        ('"2012-03-01"', "2012-03-01"),
        ('"2012-03-01T08:00"', "2012-03-01T08:00"),
        ('"2012-03-01 08:00:00+01:00"', "2012-03-01T07:00"),
        ("2012-03-01T08:00:00Z", "2012-03-01T08:00"),
    ],
)
def test_an_iso_8601_commissioning_date_loads_as_utc(tmp_path: Path, date: str, utc: str):
    site = load_site_config(_site(tmp_path, VALID + f"commissioning_date = {date}\n"))
    assert site.turbine("A1").commissioning_date == pd.Timestamp(utc, tz="UTC")


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ('WMET_HorWdSpd = "V"', 'WMET_HorWdSpd = "P"', '[columns] WTUR_W and WMET_HorWdSpd are both "P"'),
        ('asset_id = "WEA"', 'asset_id = "Zeit"', '[columns] time and asset_id are both "Zeit"'),
        ('WMET_EnvTmp = "T"', 'WMET_EnvTmp = "S"', '[columns] WTUR_TurSt and WMET_EnvTmp are both "S"'),
        (
            'WMET_EnvTmp = "T"',
            'WMET_EnvTmp = "P"\nWMET_EnvPres = "P"',
            '[columns] WTUR_W, WMET_EnvTmp and WMET_EnvPres are all "P"',
        ),
    ],
)
def test_two_names_mapped_to_one_column_are_refused_naming_both(tmp_path: Path, old: str, new: str, says: str):
    """One of them would be read from the other's values."""
    message = _problems(_site(tmp_path, VALID.replace(old, new)))
    assert says in message and "map each to its own column of the export" in message


WIDE = (
    VALID.replace('asset_id = "WEA"\n', "")
    .replace('format = "csv"', 'format = "csv"\nlayout = "wide"')
    .replace('WTUR_W = "P"', 'WTUR_W = "{asset}_P"')
    .replace('WMET_HorWdSpd = "V"', 'WMET_HorWdSpd = "{asset}_V"')
    .replace('WTUR_TurSt = "S"', 'WTUR_TurSt = "{asset}_S"')
    .replace('WMET_EnvTmp = "T"', 'WMET_EnvTmp = "{asset}_T"')
)
"""VALID as a wide export: a column per turbine and channel, named with {asset}."""


def test_a_wide_export_maps_each_channel_to_its_own_pattern(tmp_path: Path):
    assert load_site_config(_site(tmp_path, WIDE)).columns["WTUR_W"] == "{asset}_P"
    message = _problems(_site(tmp_path, WIDE.replace('"{asset}_V"', '"{asset}_P"')))
    assert '[columns] WTUR_W and WMET_HorWdSpd are both "{asset}_P"' in message


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("hub_height_m = 98", "hub_height_m = -98", "[[turbines]] A1: hub_height_m = -98; give the hub's height"),
        ("hub_height_m = 98", "hub_height_m = 0", "[[turbines]] A1: hub_height_m = 0; give the hub's height above"),
        ("hub_height_m = 98", "hub_height_m = 320", "above 0 and at most 300"),
        ("hub_height_m = 98", "hub_height_m = nan", "[[turbines]] A1: hub_height_m = nan"),
        ("elevation_m = 320", "elevation_m = 100000", "[site] elevation_m = 100000; give the site's elevation"),
        ("elevation_m = 320", "elevation_m = -1000", "[site] elevation_m = -1000; give the site's elevation"),
        ("elevation_m = 320", "elevation_m = inf", "above sea level in m, from -500 to 9000"),
        ("elevation_m = 320", "elevation_m = true", "[site] elevation_m = True"),
    ],
)
def test_implausible_heights_and_elevations_are_refused(tmp_path: Path, old: str, new: str, says: str):
    message = _problems(_site(tmp_path, VALID.replace(old, new)))
    assert says in message and "1 problem(s)" in message  # no "elevation_m is needed" besides


@pytest.mark.parametrize(("hub", "elevation"), [(0.5, -430), (300, 9000), (160, 0)])
def test_plausible_heights_and_elevations_load(tmp_path: Path, hub: float, elevation: float):
    text = VALID.replace("hub_height_m = 98", f"hub_height_m = {hub}").replace(
        "elevation_m = 320", f"elevation_m = {elevation}"
    )
    site = load_site_config(_site(tmp_path, text))
    assert (site.turbine("A1").hub_height_m, site.elevation_m) == (hub, elevation)


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ('delimiter = ";"', 'delimiter = ""', '[source] delimiter = \'\'; give one character, e.g. ";" or "\\t" for'),
        ('delimiter = ";"', 'delimiter = "tab"', "[source] delimiter = 'tab'; give one character"),
        ('delimiter = ";"', 'delimiter = ";;"', "[source] delimiter = ';;'; give one character"),
        ('delimiter = ";"', "delimiter = 59", "[source] delimiter = 59; give one character"),
        ('delimiter = ";"', 'delimiter = ","', "[source] delimiter and decimal are both ',': every number would split"),
        ('decimal = ","', 'decimal = "comma"', '[source] decimal = \'comma\'; give one character, "." or ","'),
        ('delimiter = ";"\nasset_id', 'delimiter = "tab"\nasset_id', "[events] delimiter = 'tab'; give one character"),
        ('delimiter = ";"\nasset_id', 'delimiter = ""\nasset_id', "[events] delimiter = ''; give one character"),
    ],
)
def test_a_delimiter_that_is_not_one_character_or_is_the_decimal_mark_is_refused(
    tmp_path: Path, old: str, new: str, says: str
):
    """pandas took "tab" for a regular expression, and "" or the decimal mark split nothing or every number."""
    message = _problems(_site(tmp_path, VALID_WITH_EVENTS.replace(old, new, 1)))  # [source]'s, before [events]
    assert says in message and "1 problem(s)" in message


@pytest.mark.parametrize("tab", ['"\\t"', "'\\t'", '"\t"'])
def test_a_tab_delimiter_loads_as_a_tab(tmp_path: Path, tab: str):
    """The TOML escape, and the same two characters in a literal string, a tab itself too."""
    text = VALID_WITH_EVENTS.replace('delimiter = ";"', f"delimiter = {tab}")
    site = load_site_config(_site(tmp_path, text))
    assert site.delimiter == site.events.delimiter == "\t" and site.decimal == ","


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ('thousands = ","', "[source] thousands and decimal are both ','; give the character numbers group"),
        ('thousands = ""', '[source] thousands = \'\'; give one character, "." in 1.234,5 or "," in 1,234.5'),
        ('thousands = "dot"', "[source] thousands = 'dot'; give one character"),
        ("thousands = 1000", "[source] thousands = 1000; give one character"),
    ],
)
def test_a_thousands_separator_that_is_not_one_other_character_is_refused(tmp_path: Path, setting: str, says: str):
    message = _problems(_site(tmp_path, VALID.replace('decimal = ","', f'decimal = ","\n{setting}')))
    assert says in message and "1 problem(s)" in message


def test_the_thousands_separator_is_read_and_none_by_default(tmp_path: Path):
    assert load_site_config(_site(tmp_path)).thousands is None
    site = load_site_config(_site(tmp_path, VALID.replace('decimal = ","', 'decimal = ","\nthousands = "."')))
    assert (site.delimiter, site.decimal, site.thousands) == (";", ",", ".")


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (
            ("rated_power_kw = 2300", 'rated_power_kw = "2300"'),
            "[[turbines]] A1: rated_power_kw = '2300'; give a number",
        ),
        (("hub_height_m = 98", "hub_height_m = true"), "[[turbines]] A1: hub_height_m = True; give a number, in m"),
    ],
)
def test_a_turbine_measure_that_is_no_number_is_refused(tmp_path: Path, edit: tuple[str, str], says: str):
    """A text, or a boolean (float(true) is 1.0: a 1 m hub), where a measure belongs. Control: VALID loads."""
    load_site_config(_site(tmp_path))
    assert edit[0] in VALID
    message = _problems(_site(tmp_path, VALID.replace(*edit)))
    assert says in message and "1 problem(s)" in message
