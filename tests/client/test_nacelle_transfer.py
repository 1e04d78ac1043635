"""The nacelle transfer function (IEC 61400-12-2) against values computed by hand."""

from __future__ import annotations

import numpy as np

from client.nacelle_transfer import NacelleTransferFunction, free_stream_wind_speed

NTF = NacelleTransferFunction((3.0, 8.0, 16.0), (3.3, 8.8, 17.0))


def test_free_stream_is_linear_between_the_table_points():
    # 5.5 m/s lies half way from 3 to 8: 3.3 + 0.5 * (8.8 - 3.3) = 6.05; 12 m/s: 8.8 + 0.5 * 8.2 = 12.9.
    got = free_stream_wind_speed(np.array([3.0, 5.5, 8.0, 12.0, 16.0]), NTF)
    np.testing.assert_allclose(got, [3.3, 6.05, 8.8, 12.9, 17.0], rtol=1e-12)


def test_outside_the_table_and_missing_input_give_no_wind_speed():
    # The NTF says nothing below 3 or above 16 m/s: no value is invented there (np.interp would clamp).
    got = free_stream_wind_speed(np.array([2.9, 16.1, np.nan]), NTF)
    assert np.isnan(got).all()


def test_unusable_tables_say_what_to_fix():
    assert NTF.problems() == []
    assert "equal length" in NacelleTransferFunction((3.0, 8.0), (3.3,)).problems()[0]
    assert "strictly increasing" in NacelleTransferFunction((3.0, 8.0, 7.0), (3.0, 8.0, 9.0)).problems()[0]
    assert "not negative" in NacelleTransferFunction((-1.0, 8.0), (3.0, 8.0)).problems()[0]
