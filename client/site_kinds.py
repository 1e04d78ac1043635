"""Wind or solar: which reader a site.toml takes, for the code paths that serve both kinds of site."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from client.site_config import SiteConfig, SiteConfigError, _read_toml, load_site_config
from client.solar.site_config import SolarSiteConfig, load_solar_site_config
from common.progress import Progress, silent

if TYPE_CHECKING:
    from client.validate import ValidationReport


def site_kind(path: Path) -> str:
    """What a site.toml describes: ``"wind"`` (the default) or ``"solar"`` (``[site] kind``)."""
    return str(_read_toml(Path(path)).get("site", {}).get("kind", "wind"))


def load_any_site_config(path: Path) -> SiteConfig | SolarSiteConfig:
    """The site.toml at ``path``, read by its kind's parser (SiteConfigError lists every problem)."""
    return load_solar_site_config(path) if site_kind(path) == "solar" else load_site_config(path)


def validate_any_site(path: Path, progress: Progress = silent) -> ValidationReport:
    """The validation report of the site at ``path``, by its kind's validator; never raises for bad input."""
    # Imported here: the validators' numba kernels take a second to load, which the guard (every stage) need not.
    from client.solar.validate import validate_solar_site
    from client.validate import validate_site

    try:
        kind = site_kind(path)
    except SiteConfigError:  # a missing or unreadable site.toml: the wind validator reports it as a finding
        kind = "wind"
    if kind == "solar":
        return validate_solar_site(path, progress=progress)
    return validate_site(path, progress=progress)
