"""Numbers on printed documents."""

from decimal import Decimal

from django import template
from django.template.defaultfilters import floatformat

register = template.Library()


@register.filter
def unit_price(value) -> str:
    """A unit price as amounts are shown (two decimal places, grouped), with up to six when it
    has them: 1.234,50 and 333,335, never 1.234,500000."""
    if value in (None, ""):
        return ""
    exponent = Decimal(str(value)).normalize().as_tuple().exponent

    places = min(max(2, -exponent if isinstance(exponent, int) else 2), 6)
    return floatformat(value, f"{places}g")
