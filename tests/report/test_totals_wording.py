"""The totals say a number once when the short form adds nothing."""

from cnncalc.report.render import exact_and_short


def test_small_numbers_are_not_repeated():
    assert exact_and_short(224) == "224"  # not '224 (224)'
    assert exact_and_short(999) == "999"
    assert exact_and_short(1000) == "1,000 (1.00K)"
    assert exact_and_short(25_557_032) == "25,557,032 (25.56M)"
