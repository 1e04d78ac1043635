"""One turbine, one record: the smallest site a test of a site's own files (log, ledger, reasons) needs."""

from __future__ import annotations

from pathlib import Path


def write_minimal_site(folder: Path, policy: str = "") -> Path:
    """Write export.csv (one E-82/2300 record) and a site.toml mapping it into ``folder``; return the site.toml.

    ``policy`` is the body of the site's ``[policy]`` table (none when empty).
    """
    (folder / "export.csv").write_text("t,wtg,p,v,temp\n2025-01-01T00:00:00Z,A,100,5,4\n")
    site = folder / "site.toml"
    site.write_text(
        '[site]\nelevation_m = 10\n[source]\nfiles = ["export.csv"]\n'
        '[columns]\ntime = "t"\nasset_id = "wtg"\nWTUR_W = "p"\nWMET_HorWdSpd = "v"\nWMET_EnvTmp = "temp"\n'
        '[[turbines]]\nasset_id = "A"\nmodel = "E-82/2300"\nrated_power_kw = 2300\n'
        "rotor_diameter_m = 82\nhub_height_m = 98\n" + (f"[policy]\n{policy}\n" if policy else "")
    )
    return site
