"""The words a reader sees for a release's identifiers."""

from __future__ import annotations

from common.labels import counted, indicator_label


def test_indicators_and_model_residuals_read_as_words():
    assert indicator_label("time_availability") == "time-based availability (IEC 61400-26-1)"
    assert (
        indicator_label("residual:WTRM_GbxBrgTmp")
        == "gearbox bearing temperature: residual against its normal-behaviour model"
    )
    assert (
        indicator_label("max_daily_residual:WGEN_GnBrgTmp")
        == "generator bearing temperature: largest daily mean residual"
    )
    # An identifier without a label is still readable, and never lost.
    assert indicator_label("forced_outage") == "forced outage"
    assert indicator_label("residual:WNAC_Vib") == "WNAC_Vib: residual against its normal-behaviour model"


def test_counts_take_the_number_of_their_noun():
    assert [counted(n, "release") for n in (0, 1, 2)] == ["0 releases", "1 release", "2 releases"]
    assert counted(1, "analysis", "analyses") == "1 analysis" and counted(3, "analysis", "analyses") == "3 analyses"
