"""The statistics registry: one entry per statistic, the proto's units, and the blocks a site accepts."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from protos.census import census_spec
from protos.codec import block_layouts
from protos.fleetbench.v1 import spec_pb2
from protos.generate import PROTO_DIR, REPO_ROOT
from protos.statistics import (
    STATISTICS,
    BlockKey,
    CohortBlocks,
    NbmRecordCount,
    SpecExtent,
    check_block,
    spec_block,
    statistic,
)
from server.spec import PrivacySettings, indicator_spec, power_curve_spec

S = spec_pb2.Statistic
JANUARY = ("2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z")


def _proto_units() -> dict[str, str]:
    """Statistic name -> the unit in brackets of the comment right above it in spec.proto."""
    text = (REPO_ROOT / PROTO_DIR / "spec.proto").read_text()
    enum = text[text.index("enum Statistic {") :]
    enum = enum[: enum.index("\n}")]
    units, comment = {}, []
    for line in enum.splitlines():
        line = line.strip()
        if line.startswith("//"):
            comment.append(line)
        elif match := re.match(r"([A-Z_]+) = \d+;", line):
            brackets = re.findall(r"\[([^\]]+)\]", " ".join(comment))
            if brackets:
                units[match.group(1)] = brackets[-1]
            comment = []
        else:
            comment = []
    return units


def test_every_statistic_of_the_proto_has_one_registry_entry():
    declared = {value for name, value in S.items() if name != "STATISTIC_UNSPECIFIED"}
    assert set(STATISTICS) == declared
    with pytest.raises(ValueError, match="not in this build's contract"):
        statistic(999)


def test_the_units_in_the_proto_comments_are_the_registry_units():
    units = _proto_units()
    assert units == {entry.name: entry.unit for entry in STATISTICS.values()}


def test_every_spec_the_aggregator_builds_is_the_registry_block_for_block():
    public = power_curve_spec("p", *JANUARY, ["A", "B"])
    specs = [
        public,
        indicator_spec(public, "0" * 64),
        power_curve_spec("q", *JANUARY, ["A"], privacy=PrivacySettings(1.0)),
    ]
    for spec in specs:
        layouts = block_layouts(spec)  # checks each block against the registry
        assert {layout.statistic for layout in layouts} <= set(STATISTICS)
        for layout in layouts:
            entry = STATISTICS[layout.statistic]
            assert (layout.unit, layout.scale_exponent) == (entry.unit, entry.scale_exponent)


def test_bounds_follow_from_the_spec_turbines_and_period_by_hand():
    spec = power_curve_spec("p", *JANUARY, ["A"], max_turbines_per_site=10)
    records = 10 * 31 * 24 * 6  # 10 turbines x the 10-min records of January
    bounds = {(layout.statistic, layout.target): layout.per_site_bound for layout in block_layouts(spec)}
    assert bounds[S.RECORD_COUNT, ""] == records
    assert bounds[S.SUM_POWER, ""] == records * 3.0e4  # [kW], the largest power a record may carry
    census = {(layout.statistic, layout.target): layout.per_site_bound for layout in block_layouts(census_spec(spec))}
    assert census[S.CURVE_CENSUS, ""] == records**2  # the largest of its fields: records squared
    assert bounds[S.BIN_CONTRIBUTOR, ""] == 1
    assert bounds[S.NBM_RECORD_COUNT, "WTRM_GbxBrgTmp"] == records
    round_two = {(lay.statistic, lay.target): lay for lay in block_layouts(indicator_spec(spec, "0" * 64))}
    years = records / (365.25 * 24 * 6)
    assert round_two[S.TURBINE_YEARS, ""].per_site_bound == pytest.approx(years, rel=1e-15)
    assert round_two[S.FAILURE_DOWNTIME, ""].per_site_bound == pytest.approx(years * 8766.0, rel=1e-15)
    assert round_two[S.PERFORMANCE_INDEX_HISTOGRAM, ""].per_site_bound == 10
    assert round_two[S.FAILURE_COUNT, ""].shape == (7, 7)  # components x age bands


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("unit", "W", "unit"),
        ("scale_exponent", 12, "scale_exponent"),
        ("per_site_bound", 1e30, "per_site_bound"),
    ],
)
def test_a_site_refuses_a_block_declared_otherwise_than_the_registry(field, value, message):
    spec = power_curve_spec("p", *JANUARY, ["A"])
    block = next(b for b in spec.blocks if b.statistic == S.SUM_POWER)
    setattr(block, field, value)
    with pytest.raises(ValueError, match=f"A:SUM_POWER: {message}"):
        block_layouts(spec)


def test_a_site_refuses_a_block_of_another_shape():
    spec = power_curve_spec("p", *JANUARY, ["A"])
    block = next(b for b in spec.blocks if b.statistic == S.RECORD_COUNT)
    block.shape[:] = [10**6]  # a spec cannot make a site allocate what its grids do not say
    with pytest.raises(ValueError, match="A:RECORD_COUNT: shape"):
        check_block(SpecExtent.of(spec), block)


def test_a_per_target_statistic_needs_its_target():
    spec = power_curve_spec("p", *JANUARY, ["A"])
    with pytest.raises(ValueError, match="needs target"):
        spec_block(spec, "A", S.NBM_GRAM)
    with pytest.raises(ValueError, match="takes no target"):
        spec_block(spec, "A", S.RECORD_COUNT, "WTRM_GbxBrgTmp")


def test_block_keys_and_their_printable_names():
    key = BlockKey("E-82/2300", S.NBM_GRAM, "WTRM_GbxBrgTmp")
    assert key.name == "E-82/2300:NBM_GRAM:WTRM_GbxBrgTmp" and str(BlockKey("A", S.RECORD_COUNT)) == "A:RECORD_COUNT"
    values = {key: 1, BlockKey("A", S.RECORD_COUNT): 2}
    assert CohortBlocks(values, "E-82/2300")(S.NBM_GRAM, "WTRM_GbxBrgTmp") == 1
    assert CohortBlocks(values, "A")(S.RECORD_COUNT) == 2


def test_composite_blocks_have_named_fields_in_payload_order():
    spec = power_curve_spec("p", *JANUARY, ["A"])
    layout = next(layout for layout in block_layouts(spec) if layout.statistic == S.NBM_RECORD_COUNT)
    assert layout.shape == (len(NbmRecordCount._fields),)
    counts = NbmRecordCount(records=40.0, turbines=2.0, contributor=1.0)
    assert NbmRecordCount(*np.array(counts)) == counts
    assert STATISTICS[S.NBM_RECORD_COUNT].fields is NbmRecordCount


def test_the_private_histogram_bound_leaves_room_for_the_site_noise():
    settings = PrivacySettings(1.0, max_records_per_turbine_per_bin=60, min_noise_sites=5)
    spec = power_curve_spec("q", *JANUARY, ["A"], max_turbines_per_site=100, privacy=settings)
    block = next(b for b in spec.blocks if b.statistic == S.CAPPED_POWER_HISTOGRAM)
    assert block.per_site_bound == pytest.approx(100 * 60 + 40 * block.noise_stddev / math.sqrt(4), rel=1e-12)
