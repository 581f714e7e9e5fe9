"""Money helpers that are not exercised whole by the documents' tests."""

from decimal import Decimal

import pytest

from ally360.money import money, money_shares


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        # Each share rounded on its own: 14.49 + 16.52 + 5.60 = 36.61.
        ("36.60", ["250", "285", "96.60"], ["14.49", "16.51", "5.60"]),
        ("0.02", ["1", "1", "1"], ["0.01", "0.01", "0.00"]),  # the first among equals
        ("10.00", ["0", "0"], ["0.00", "0.00"]),
        ("0.00", ["5", "7"], ["0.00", "0.00"]),
    ],
)
def test_shares_add_up_to_the_total(total, weights, expected):
    shares = money_shares(Decimal(total), [Decimal(w) for w in weights])
    assert shares == [Decimal(e) for e in expected]


def test_shares_are_within_a_cent_of_their_exact_part_and_add_up():
    weights = [Decimal(w) for w in ("1", "2", "3", "7", "11", "13")]
    for cents in range(0, 5000, 37):
        total = Decimal(cents) / 100
        shares = money_shares(total, weights)
        assert sum(shares) == total
        for share, weight in zip(shares, weights, strict=True):
            assert abs(share - total * weight / sum(weights)) < Decimal("0.01")
            assert share == money(share)
