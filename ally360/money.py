"""Money in COP as Decimal: unit prices to 6 places, quantities to 3, amounts to 2 (ROUND_HALF_UP).

Document totals are sums of rounded lines, never re-rounded aggregates. Floats never appear.
"""

from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal

ZERO = Decimal("0")
HUNDRED = Decimal("100")
CENT = Decimal("0.01")
PRICE_STEP = Decimal("0.000001")
QUANTITY_STEP = Decimal("0.001")

# Column and API field precisions, one place for models and serializers alike.
MONEY = {"max_digits": 18, "decimal_places": 2}
QUANTITY = {"max_digits": 18, "decimal_places": 3}
PRICE = {"max_digits": 18, "decimal_places": 6}
# Cash a drawer takes in at once (the opening float, a cash in): 12 integer digits, so that a
# shift's expected cash (an amount of 18 digits) still holds their sum with the sales at the close.
DRAWER_CASH = {"max_digits": 14, "decimal_places": 2}


# Rounding needs room for every digit of the result: Python's default 28 digits cannot hold a
# quantity times a cost near their columns' limits (a stock's value), and quantize would fail.
WIDE = Context(prec=60)


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP, context=WIDE)


def unit_price(value) -> Decimal:
    return Decimal(value).quantize(PRICE_STEP, rounding=ROUND_HALF_UP, context=WIDE)


def quantity(value) -> Decimal:
    return Decimal(value).quantize(QUANTITY_STEP, rounding=ROUND_HALF_UP, context=WIDE)


# A stock balance, a movement and a count's difference are numeric(18, 3).
MAX_QUANTITY = Decimal(10) ** 15


def percent_of(amount: Decimal, rate: Decimal) -> Decimal:
    """`rate` percent of `amount`, unrounded (callers round once, per line)."""
    return Decimal(amount) * Decimal(rate) / HUNDRED


def money_shares(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """`total` (in cents, not negative) in shares proportional to `weights` that add up to it
    exactly, where rounding each share on its own can miss it by a cent: each share rounded
    down to the cent, the cents left to the largest remainders (the first among equals).
    Zeros when the weights are."""
    whole = sum(weights, ZERO)
    if not whole:
        return [ZERO for _weight in weights]
    exact = [total * weight / whole for weight in weights]
    shares = [share.quantize(CENT, rounding=ROUND_DOWN, context=WIDE) for share in exact]
    cents_left = int((total - sum(shares, ZERO)) / CENT)
    by_remainder = sorted(range(len(exact)), key=lambda i: shares[i] - exact[i])
    for index in by_remainder[:cents_left]:
        shares[index] += CENT
    return shares
