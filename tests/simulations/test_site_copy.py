"""An operator's site.toml copied elsewhere: the copy finds the export and the event log, the rest is as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from client.site_config import load_site_config
from simulations.fleet import enrol_members
from simulations.site_copy import site_copy, toml_statements

EXPORT = "t,wtg,p,v,temp\n2025-01-01T00:00:00Z,A,100,5,4\n"
EVENT_LOG = "unit,from,to,code\nA,2025-01-01T00:00:00Z,2025-01-01T01:00:00Z,7\n"
TURBINE = (
    '[[turbines]]\nasset_id = "A"\nmodel = "E-82/2300"\nrated_power_kw = 2300\n'
    "rotor_diameter_m = 82\nhub_height_m = 98\n"
)


def write_site(folder: Path, source_files: str, tail: str = "") -> Path:
    """An export under scada/, an event log under alarms/ and a site.toml naming them in ``folder``; the site.toml.

    ``source_files`` is the [source] files line as the operator wrote it; ``tail`` more tables at the end.
    """
    (folder / "scada").mkdir(parents=True)
    (folder / "scada" / "jan.csv").write_text(EXPORT)
    (folder / "alarms").mkdir()
    (folder / "alarms" / "log.csv").write_text(EVENT_LOG)
    site = folder / "site.toml"
    site.write_text(
        "# Plant A, as exported by the SCADA vendor\n[site]\nelevation_m = 10\n\n"
        f"[source]\n{source_files}\n\n"
        '[columns]\ntime = "t"\nasset_id = "wtg"\nWTUR_W = "p"\nWMET_HorWdSpd = "v"\nWMET_EnvTmp = "temp"\n\n'
        '[events]  # the status from the alarm log\nfiles = ["alarms/*.csv"]\nasset_id = "unit"\nstart = "from"\n'
        'end = "to"\ncode = "code"\n\n[status]\nnormal = [0]\n\n' + TURBINE + tail
    )
    return site


@pytest.mark.parametrize(
    "source_files",
    [
        'files = ["scada/*.csv"]',
        'files = "scada/jan.csv"',  # a single path, which site-toml.md allows
        'files = [\n  "scada/jan.csv",  # January [the only month so far]\n]',
    ],
)
def test_the_copy_reads_the_originals_export_and_event_log(tmp_path: Path, source_files: str):
    original = write_site(tmp_path / "plant", source_files)
    site = load_site_config(original)
    copy = site_copy(original, site, tmp_path / "onboarding" / "member")
    copied = load_site_config(copy)
    assert copied.files == tuple(path.resolve() for path in site.files)
    assert copied.events is not None and site.events is not None
    assert copied.events.files == tuple(path.resolve() for path in site.events.files)  # not the export's
    # Everything else as the operator wrote it: its comments too.
    changed = set(original.read_text().splitlines()) ^ set(copy.read_text().splitlines())
    assert {line for line in changed if not line.startswith("files = [")} <= set(source_files.splitlines())
    assert "# Plant A, as exported by the SCADA vendor" in copy.read_text()


def test_the_copy_leaves_out_the_originals_membership_to_join_a_roster_of_its_own(tmp_path: Path):
    """A member's site.toml pins its key and roster (beside the original); the copy joins the onboarding roster."""
    original = write_site(tmp_path / "plant", 'files = ["scada/*.csv"]')
    site = load_site_config(original)
    membership = (
        '\n[member]\nname = "plant-a"\nkey = "consortium/plant-a.member.key"\nroster = "consortium/roster.json"\n'
    )
    original.write_text(original.read_text() + membership)
    copy = site_copy(original, site, tmp_path / "onboarding" / "member")
    enrol_members([copy], ["you"], consortium="onboarding")
    member = load_site_config(copy).member
    assert member is not None and member.name == "you"


def test_files_the_copy_cannot_rewrite_are_refused_not_copied_unread(tmp_path: Path):
    original = write_site(tmp_path / "plant", 'files = ["scada/*.csv"]')
    site = load_site_config(original)
    inline = original.read_text().replace('[source]\nfiles = ["scada/*.csv"]\n', "")
    original.write_text('source = { files = ["scada/*.csv"] }\n' + inline)
    assert load_site_config(original).files == site.files  # valid TOML, the same site
    with pytest.raises(
        ValueError, match=r"where files = \[\.\.\.\] is a line of its own under \[source\] and \[events\]"
    ):
        site_copy(original, site, tmp_path / "onboarding" / "member")
    assert not (tmp_path / "onboarding" / "member" / "site.toml").exists()


def test_statements_are_the_documents_lines_each_in_its_table():
    text = (
        "# a comment\n[status]\nnormal = [\n  0, # running\n  2,\n]\n[status.components]\ngearbox = [9]\n"
        '[[turbines]]\nasset_id = "A"\nnote = """two\n[lines]"""\n'
    )
    statements = toml_statements(text)
    assert "".join(s.text for s in statements) == text
    assert [(s.table, sorted(s.values), s.header) for s in statements] == [
        ((), [], False),
        (("status",), [], True),
        (("status",), ["normal"], False),
        (("status", "components"), [], True),
        (("status", "components"), ["gearbox"], False),
        (("turbines",), [], True),
        (("turbines",), ["asset_id"], False),
        (("turbines",), ["note"], False),
    ]
    with pytest.raises(ValueError, match="ends inside a value"):
        toml_statements('files = [\n  "a.csv",\n')
