"""Colombian fiscal identifiers (python-stdnum implements the DIAN check-digit rule)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _
from stdnum.co import nit as stdnum_nit

from .exceptions import ValidationFailed

FINAL_CONSUMER_ID = "222222222222"


def nit_check_digit(base: str) -> str:
    return stdnum_nit.calc_check_digit(base)


def normalize_nit(
    number: str, check_digit: str | None = None, *, field: str = "nit"
) -> tuple[str, str]:
    """Return (digits, check digit) for a NIT typed as `800197268-4`, `800.197.268` or digits.

    A check digit given either after a dash or separately is verified; when none is given it is
    computed. A wrong one is refused with a message naming the expected digit.
    """
    raw = (number or "").strip()
    if "-" in raw:
        raw, _dash, typed_dv = raw.rpartition("-")
        if check_digit not in (None, "") and str(check_digit) != typed_dv.strip():
            message = _("The check digit after the dash and the check digit field differ.")
            raise ValidationFailed(message, fields={field: [message]})
        check_digit = typed_dv.strip()
    # Leading zeros (padded imports, forms) change neither the number nor its check digit.
    base = stdnum_nit.compact(raw).lstrip("0")
    if not (base.isascii() and base.isdigit()) or not 5 <= len(base) <= 15:  # "²" is a digit too
        message = _("A NIT has 5 to 15 digits, without the check digit.")
        raise ValidationFailed(message, fields={field: [message]})
    expected = nit_check_digit(base)
    if check_digit not in (None, ""):
        check_digit = str(check_digit).strip()
        if check_digit != expected:
            message = _(
                "The check digit %(given)s is wrong for NIT %(nit)s: the expected check digit "
                "is %(expected)s."
            ) % {"given": check_digit, "nit": base, "expected": expected}

            raise ValidationFailed(
                message,
                code="invalid_check_digit",
                fields={field: [message]},
                extra={"expected_check_digit": expected},
            )
    return base, expected


def uvt_value(year: int) -> Decimal:
    """The UVT of a year from configuration (`UVT_VALUES`); the closest earlier year otherwise."""
    known = sorted(settings.UVT_VALUES)
    chosen = max([y for y in known if y <= year] or known[:1])
    return Decimal(settings.UVT_VALUES[chosen])
