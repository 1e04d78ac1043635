"""Property-based: malformed exports never crash validation or a contribution; they give a clear error or a result.

At least 1000 generated exports per run (two tests x 500 examples).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from client.contribution import SiteValidationError, site_contribution
from client.site_config import SiteConfigError
from client.validate import validate_site
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


def _site(text: str, folder: Path) -> Path:
    (folder / "export.csv").write_text(text, encoding="utf-8", errors="surrogatepass")
    (folder / "site.toml").write_text(SITE)
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
