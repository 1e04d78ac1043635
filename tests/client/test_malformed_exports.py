"""Property-based: malformed exports never crash validation or a contribution; they give a clear error or a result.

At least 1000 generated exports per run (two tests x 500 examples), and `validate`, `preview` and a
contribution agree on 40 more, among them rows whose decimal comma splits a number.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from google.protobuf import json_format
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from client.contribution import SiteValidationError, site_contribution, summarise_export
from client.site_config import SiteConfigError, load_site_config
from client.validate import validate_site
from fleetbench.cli import main
from protos.census import census_spec
from server.spec import power_curve_spec

SPEC = power_curve_spec("s", "2025-01-01T00:00:00Z", "2025-01-08T00:00:00Z", ["E-82/2300"])
HEADER = ["t", "wtg", "p", "v", "temp"]
SITE = """
[site]
elevation_m = 10
[source]
files = ["export.csv"]
[columns]
time = "t"
asset_id = "wtg"
WTUR_W = "p"
WMET_HorWdSpd = "v"
WMET_EnvTmp = "temp"
[[turbines]]
asset_id = "A"
model = "E-82/2300"
rated_power_kw = 2300
rotor_diameter_m = 82
hub_height_m = 98
"""

cell = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.sampled_from(["2025-01-01T00:10:00Z", "2025-13-45", "A", "", "NaN", "1e309", "-273.2", "2025-03-30 02:30"]),
)
row = st.lists(cell, min_size=0, max_size=7)
export = st.one_of(
    st.just(""),  # empty file
    st.builds(  # a header (maybe wrong) and garbage rows
        lambda header, rows: "\n".join([",".join(header)] + [",".join(map(str, r)) for r in rows]),
        st.one_of(st.just(HEADER), st.lists(st.sampled_from([*HEADER, "x", "P_kW"]), max_size=6)),
        st.lists(row, max_size=30),
    ),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),  # not a CSV at all
)


def _site(text: str, folder: Path, site: str = SITE) -> Path:
    (folder / "export.csv").write_text(text, encoding="utf-8", errors="surrogatepass")
    (folder / "site.toml").write_text(site)
    return folder / "site.toml"


def _truncated(text: str, cut: float) -> str:
    return text[: int(len(text) * cut)]


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(export, st.floats(min_value=0.0, max_value=1.0))
def test_validation_never_crashes(text, cut):
    with tempfile.TemporaryDirectory() as folder:
        report = validate_site(_site(_truncated(text, cut), Path(folder)))
        for finding in report.findings:
            assert finding.severity in ("error", "warning")
            assert finding.problem and finding.fix


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(export)
def test_a_contribution_is_a_clear_refusal_or_valid_blocks(text):
    with tempfile.TemporaryDirectory() as folder:
        try:
            arrays = site_contribution(_site(text, Path(folder)), census_spec(SPEC))
        except (SiteValidationError, SiteConfigError) as error:
            assert str(error)
            return
        assert len(arrays) == len(census_spec(SPEC).blocks)
        assert all(np.all(np.isfinite(a)) for a in arrays)


SHIFT_SITE = SITE.replace('WMET_EnvTmp = "temp"', 'WMET_EnvTmp = "temp"\nWMET_HorWdDirRel = "vane"')


def _export_with(row: str, position: int) -> str:
    """Six rows of turbine A, 10 min apart, the given row among them; the header names six fields."""
    rows = [f"2025-01-01T0{n // 6}:{n % 6}0:00Z,A,{1000 + n}.5,{6 + n / 10},5.0,1.5" for n in range(6)]
    rows[position] = row
    return "\n".join(["t,wtg,p,v,temp,vane", *rows]) + "\n"


@pytest.mark.parametrize("position", [0, 3])
def test_a_decimal_comma_row_is_one_clear_finding_for_validation_and_the_contribution_alike(tmp_path, position):
    shifted = f"2025-01-01T00:{position}0:00Z,A,1234,5,6.1,5.0,1.5"  # 1234,5 splits: seven fields, six names
    (tmp_path / "export.csv").write_text(_export_with(shifted, position))
    (tmp_path / "site.toml").write_text(SHIFT_SITE)
    report = validate_site(tmp_path / "site.toml")
    assert not report.usable
    [finding] = [f for f in report.findings if f.severity == "error"]
    assert finding.file == str(tmp_path / "export.csv")
    assert f"line {position + 2} has more fields than the header's 6: {shifted!r}" in finding.problem
    assert "quote" in finding.fix and "decimal point" in finding.fix and "delimiter" in finding.fix
    with pytest.raises(SiteValidationError, match=f"line {position + 2} has more fields"):
        site_contribution(tmp_path / "site.toml", census_spec(SPEC))
    # Read without validating first (the round's own reader), the row is the same error, not shifted columns.
    with pytest.raises(SiteConfigError, match=f"line {position + 2} has more fields"):
        summarise_export(load_site_config(tmp_path / "site.toml"), census_spec(SPEC))

    # Control: the same value with a decimal point; validation and the contribution agree it is usable.
    (tmp_path / "export.csv").write_text(_export_with(shifted.replace("1234,5", "1234.5"), position))
    assert validate_site(tmp_path / "site.toml").usable
    assert len(site_contribution(tmp_path / "site.toml", census_spec(SPEC))) == len(census_spec(SPEC).blocks)


decimal_comma_row = st.builds(
    lambda minute, power, comma: f"2025-01-02T00:{minute:02d}:00Z,A,{power:.1f},7.5,5.0,1.5".replace(
        f"{power:.1f}", f"{power:.1f}".replace(".", ",") if comma else f"{power:.1f}"
    ),
    st.integers(min_value=0, max_value=59),
    st.floats(min_value=0.0, max_value=2300.0),
    st.booleans(),
)
plausible_export = st.lists(decimal_comma_row, min_size=1, max_size=12).map(
    lambda rows: "\n".join([",".join([*HEADER, "vane"]), *rows]) + "\n"
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(export, plausible_export))
def test_validate_preview_and_a_contribution_agree(text):
    """`fleetbench validate` and `preview` exit 0 exactly when a contribution is made, 1 when it is refused; never 2."""
    with tempfile.TemporaryDirectory() as folder:
        site = _site(text, Path(folder), SHIFT_SITE)  # the vane is mapped, and no round-1 statistic reads it
        spec = Path(folder) / "spec.json"
        spec.write_text(json_format.MessageToJson(SPEC))
        validated = main(["--quiet", "validate", "--site", str(site)])
        previewed = main(["--quiet", "preview", "--site", str(site), "--spec", str(spec)])
        try:
            site_contribution(site, census_spec(SPEC))
            contributed = 0
        except (SiteValidationError, SiteConfigError):
            contributed = 1
        assert validated == previewed == contributed


GOOD_ROWS = "".join(f"2025-01-01T00:{m}0:00Z,A,1500.5,9.1,5.0\n" for m in range(6))


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("", "the file is empty; export it with its header and records"),
        ("\n", "the file is empty; export it with its header and records"),
        (",".join(HEADER) + "\n" + GOOD_ROWS.replace("\n", ",\n"), "they end with a delimiter the header does not"),
        (",".join(HEADER) + "\n" + GOOD_ROWS + ",".join(HEADER) + "\n" + GOOD_ROWS, "the header repeats inside"),
        (",".join(HEADER) + "\n" + GOOD_ROWS.replace("A,", "Süd,"), "it is not utf-8 text"),
    ],
)
def test_a_file_that_cannot_be_read_says_what_is_wrong_with_it(tmp_path: Path, text: str, named: str):
    """An empty file; rows that end with a delimiter; a header repeated in the file; Windows-1252 text: one error
    naming it. Control: the six rows alone are usable."""
    (tmp_path / "site.toml").write_text(SITE)
    (tmp_path / "export.csv").write_bytes(text.encode("cp1252"))
    report = validate_site(tmp_path / "site.toml")
    assert [f.severity for f in report.findings if named in f.problem] == ["error"], report.findings
    (tmp_path / "export.csv").write_text(",".join(HEADER) + "\n" + GOOD_ROWS)
    assert validate_site(tmp_path / "site.toml").usable


def test_a_row_longer_than_a_mebibyte_is_read(tmp_path: Path):
    """A 2 MiB text in a column the site does not map: read (Arrow's reader failed on a row longer than its block)."""
    (tmp_path / "site.toml").write_text(SITE)
    rows = ",".join([*HEADER, "note"]) + "\n" + GOOD_ROWS.replace("\n", ",\n")
    (tmp_path / "export.csv").write_text(rows.replace(",\n", "," + "x" * (2 << 20) + "\n", 1))
    assert validate_site(tmp_path / "site.toml").usable


def test_a_windows_export_reads_with_its_encoding(tmp_path: Path):
    """Turbine "Süd" in a Windows-1252 export: read with [source] encoding = "cp1252", its six records. Control:
    without it, an error naming the setting; an encoding Python does not know is refused at load."""
    (tmp_path / "export.csv").write_bytes((",".join(HEADER) + "\n" + GOOD_ROWS.replace("A,", "Süd,")).encode("cp1252"))
    site = SITE.replace('asset_id = "A"', 'asset_id = "Süd"')
    (tmp_path / "site.toml").write_text(site)
    [finding] = validate_site(tmp_path / "site.toml").findings
    assert finding.severity == "error" and "[source] encoding" in finding.fix
    (tmp_path / "site.toml").write_text(site.replace("[source]\n", '[source]\nencoding = "cp1252"\n'))
    report = validate_site(tmp_path / "site.toml")
    assert report.usable and report.turbines.loc["Süd", "rows"] == 6
    (tmp_path / "site.toml").write_text(site.replace("[source]\n", '[source]\nencoding = "klingon"\n'))
    with pytest.raises(SiteConfigError, match=r"\[source\] encoding = 'klingon' is not a text encoding"):
        load_site_config(tmp_path / "site.toml")


def test_a_tab_separated_export_whose_rows_end_with_a_tab_says_so(tmp_path: Path):
    (tmp_path / "site.toml").write_text(SITE.replace("[source]\n", '[source]\ndelimiter = "\\t"\n'))
    rows = GOOD_ROWS.replace(",", "\t").replace("\n", "\t\n")
    (tmp_path / "export.csv").write_text("\t".join(HEADER) + "\n" + rows)
    [finding] = validate_site(tmp_path / "site.toml").findings
    assert "they end with a delimiter the header does not" in finding.problem
    (tmp_path / "export.csv").write_text("\t".join(HEADER) + "\n" + rows.replace("\t\n", "\n"))
    assert validate_site(tmp_path / "site.toml").usable  # control
