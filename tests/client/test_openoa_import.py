"""A site.toml from an OpenOA plant metadata file, as the La Haute Borne example writes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from client.ingest import read_canonical_chunks
from client.openoa_import import site_toml_from_openoa
from client.site_config import SiteConfigError, load_site_config
from client.validate import validate_site

META = """
asset:
  elevation: elevation_m
  hub_height: Hub_height_m
  id: Wind_turbine_name
  rated_power: Rated_power  # MW
  rotor_diameter: Rotor_diameter_m
scada:
  frequency: 10T
  id: Wind_turbine_name
  WROT_BlPthAngVal: Ba_avg
  WTUR_W: P_avg
  WMET_EnvTmp: Ot_avg
  time: Date_time
  WMET_HorWdDir: Wa_avg
  WMET_HorWdSpd: Ws_avg
"""


def test_openoa_metadata_becomes_a_usable_site(tmp_path: Path):
    (tmp_path / "plant_meta.yml").write_text(META)
    (tmp_path / "assets.csv").write_text(
        "Wind_turbine_name,Rated_power,Rotor_diameter_m,Hub_height_m,elevation_m\n"
        "R80711,2.05,82,80,411\nR80721,2.05,82,80,407\n"
    )
    (tmp_path / "scada.csv").write_text(
        "Wind_turbine_name,Date_time,Ba_avg,P_avg,Ws_avg,Wa_avg,Ot_avg\n"
        "R80711,2025-01-01T00:00:00+00:00,-1.0,310.5,6.2,180,4.5\n"
        "R80721,2025-01-01T00:00:00+00:00,-1.0,401.0,6.8,182,4.4\n"
    )
    text = site_toml_from_openoa(
        tmp_path / "plant_meta.yml", ["scada.csv"], tmp_path / "assets.csv", "MM82", rated_power_unit="MW"
    )
    (tmp_path / "site.toml").write_text(text)
    site = load_site_config(tmp_path / "site.toml")
    assert [t.rated_power_kw for t in site.turbines] == [2050.0, 2050.0]
    assert site.elevation_m == pytest.approx(409.0) and site.columns["WROT_BlPthAngVal"] == "Ba_avg"
    assert site.resolution.total_seconds() == 600
    (frame,) = read_canonical_chunks(site)
    assert list(frame["WTUR_W"]) == [310.5, 401.0]
    assert validate_site(tmp_path / "site.toml").usable


def test_a_relative_meta_path_still_names_the_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "la-haute-borne").mkdir()
    (tmp_path / "la-haute-borne" / "plant_meta.yml").write_text(META)
    (tmp_path / "la-haute-borne" / "assets.csv").write_text(
        "Wind_turbine_name,Rated_power,Rotor_diameter_m,Hub_height_m,elevation_m\nR80711,2.05,82,80,411\n"
    )
    monkeypatch.chdir(tmp_path / "la-haute-borne")
    text = site_toml_from_openoa(
        Path("plant_meta.yml"), ["scada.csv"], Path("assets.csv"), "MM82", rated_power_unit="MW"
    )
    assert 'name = "la-haute-borne"' in text


def test_incomplete_openoa_metadata_says_what_is_missing(tmp_path: Path):
    (tmp_path / "plant_meta.yml").write_text(META.replace("  WTUR_W: P_avg\n", ""))
    (tmp_path / "assets.csv").write_text("Wind_turbine_name\nR1\n")
    with pytest.raises(SiteConfigError, match=r"maps no column to \['WTUR_W'\]"):
        site_toml_from_openoa(tmp_path / "plant_meta.yml", ["scada.csv"], tmp_path / "assets.csv", "MM82")
    (tmp_path / "plant_meta.yml").write_text(META)
    with pytest.raises(SiteConfigError, match=r"rated_power -> 'Rated_power'"):
        site_toml_from_openoa(tmp_path / "plant_meta.yml", ["scada.csv"], tmp_path / "assets.csv", "MM82")
