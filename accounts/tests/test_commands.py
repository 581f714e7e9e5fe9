"""Operator commands."""

import pytest
from django.core.management import call_command

from accounts.models import Company, User

pytestmark = pytest.mark.django_db


def test_bootstrap_demo_runs_twice_with_an_e_mail_typed_in_capitals():
    """Users are stored lowercased: a second run with the same --email finds the user (and
    its company) instead of failing on the unique e-mail."""
    for _run in range(2):
        call_command("bootstrap_demo", email="Dueno@Tienda.co", password="Clave-segura-2026")
    assert User.objects.filter(email="dueno@tienda.co").count() == 1
    assert Company.objects.filter(memberships__user__email="dueno@tienda.co").count() == 1


def test_check_stock_names_a_bad_company_instead_of_a_traceback(company_a):
    import uuid

    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a company id"):
        call_command("check_stock", company="abc")
    with pytest.raises(CommandError, match="No company"):
        call_command("check_stock", company=str(uuid.uuid4()))
    call_command("check_stock", company=str(company_a.pk))
