"""Numbers on printed documents."""

from django import template

from ally360.formatting import shown_price

register = template.Library()


@register.filter
def unit_price(value) -> str:
    """A unit price as amounts are shown (two decimal places, grouped), with up to six when it
    has them: 1.234,50 and 333,335, never 1.234,500000."""
    if value in (None, ""):
        return ""
    return shown_price(value)
