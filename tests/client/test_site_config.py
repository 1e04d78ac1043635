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
    assert "commissioning_date = 'last spring' (give a date, e.g. 2012-05-01)" in message


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
