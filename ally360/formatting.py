"""Numbers and dates in messages as the pages show them, in the active language.

A message is built while its request's language is active (the page's, or the API's
Accept-Language), so these read it then: "23.800,00" and "18/10/2026" in Spanish, "23,800.00"
and "10/18/2026" in English. Only the human text uses them; a machine-readable `extra` keeps
the raw figure.
"""

from datetime import date
from decimal import Decimal

from django.utils import formats

from ally360.money import money, quantity, unit_price


def shown_amount(value) -> str:
    """Money as the templates' `floatformat:"2g"`: grouped, two decimal places.
    Rounded first: `number_format` cuts extra decimals off instead of rounding them."""
    return formats.number_format(money(value), decimal_pos=2, use_l10n=True, force_grouping=True)


def shown_price(value) -> str:
    """A unit price (up to six decimal places) with the decimals it has, at least two:
    "1.234,50" and "333,335", never "10.000,000000"."""
    price = unit_price(value).normalize()
    places = min(max(2, -price.as_tuple().exponent), 6)
    return formats.number_format(price, decimal_pos=places, use_l10n=True, force_grouping=True)


def shown_quantity(value) -> str:
    """A quantity, a count or a rate, grouped and without trailing zeros: "3", "2,5" and
    "1.250" in Spanish, never "3.000" (which a Spanish reader takes for three thousand)."""
    value = quantity(value)
    shown = value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()
    return formats.number_format(shown, use_l10n=True, force_grouping=True)


def shown_date(value: date) -> str:
    """A day as the pages' `date:"SHORT_DATE_FORMAT"`."""
    return formats.date_format(value, "SHORT_DATE_FORMAT")
