"""The company's page: its data and counter rules (`company_update`; a NIT's check digit
computed or verified), and its logo sent from the browser straight to storage, then set
(`company_logo_set`, replacing the previous one) or removed; refusals write nothing; only
owners and admins open it; another company's upload is not found."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import Company
from ally360.fiscal import nit_check_digit
from ally360.roles import Role
from ally360.tenancy import tenant_context
from conftest import png_bytes
from files.models import FileObject
from files.services import company_logo
from files.tests.test_files_api import local_put
from inventory.tests.test_adjustment_page import pages_as

pytestmark = pytest.mark.django_db

URL = "/settings/"


def settings_data(**changes) -> dict:
    data = {
        "name": "Tienda La Esquina",
        "legal_name": "La Esquina S.A.S.",
        "nit": "900123456",
        "email": "ventas@laesquina.co",
        "phone": "6015551234",
        "address": "Calle 10 # 5-20",
        "city": "Bogotá",
        "seller_max_discount_pct": "10",
        "sellers_may_change_price": "on",
        **changes,
    }
    return {name: value for name, value in data.items() if value is not None}


def sent_logo(client, content=None, name="logo.png") -> str:
    content = content or png_bytes((120, 60))
    started = client.post(
        f"{URL}logo/upload/", {"name": name, "content_type": "image/png", "size": len(content)}
    )
    assert started.status_code == 201, started.json()
    assert local_put(started.json()["upload"], content).status_code == 201
    return started.json()["file"]


def test_an_owner_keeps_the_company_data_and_counter_rules(company_a):
    owner = pages_as(company_a, Role.OWNER)
    assert b'href="/settings/"' in owner.get("/").content
    assert owner.post(URL, settings_data()).status_code == 302
    company = Company.objects.get(pk=company_a.pk)
    assert (company.name, company.nit, company.nit_dv) == (
        "Tienda La Esquina",
        "900123456",
        nit_check_digit("900123456"),
    )
    assert (
        company.allow_negative_stock,
        company.sellers_may_change_price,
        company.seller_max_discount_pct,
    ) == (False, True, Decimal("10"))
    page = owner.get(URL).content.decode()
    assert "Tienda La Esquina guardado" in page or "Se guardó Tienda La Esquina" in page
    assert f"900123456-{company.nit_dv}" in page


def test_a_wrong_check_digit_or_discount_comes_back_on_the_form(company_a):
    owner = pages_as(company_a, Role.OWNER)
    before = Company.objects.values().get(pk=company_a.pk)
    wrong_dv = (int(nit_check_digit("900123456")) + 1) % 10
    answer = owner.post(URL, settings_data(nit=f"900123456-{wrong_dv}"))
    assert answer.status_code == 400
    assert "dígito de verificación" in " ".join(answer.context["form"].errors["nit"])
    over = owner.post(URL, settings_data(seller_max_discount_pct="120"))
    assert over.status_code == 400 and over.context["form"].errors["seller_max_discount_pct"]
    blank = owner.post(URL, settings_data(name=""))
    assert blank.status_code == 400 and blank.context["form"].errors["name"]
    assert Company.objects.values().get(pk=company_a.pk) == before


def test_the_logo_is_set_replaced_and_removed(company_a):
    owner = pages_as(company_a, Role.OWNER)
    first = sent_logo(owner)
    assert owner.post(f"{URL}logo/", {"file": first}).status_code == 302
    assert owner.post(f"{URL}logo/", {"file": first}).status_code == 302  # resent: once
    page = owner.get(URL)
    assert "Logo logo.png guardado" in page.content.decode()
    assert b'data-testid="logo"' in page.content
    with tenant_context(company_a):
        assert str(company_logo().pk) == first
    second = sent_logo(owner, png_bytes((80, 80), (0, 0, 200)), name="nuevo.png")
    owner.post(f"{URL}logo/", {"file": second})
    with tenant_context(company_a):
        assert str(company_logo().pk) == second
        assert FileObject.objects.get(pk=first).status == FileObject.Status.DELETED
    fake = sent_logo(owner, b"only text, not a picture", name="falso.png")
    refused = owner.post(f"{URL}logo/", {"file": fake})
    assert "no coincide con lo declarado" in owner.get(refused["Location"]).content.decode()
    with tenant_context(company_a):
        assert str(company_logo().pk) == second
    removed = owner.post(f"{URL}logo/remove/")
    assert "Logo eliminado" in owner.get(removed["Location"]).content.decode()
    with tenant_context(company_a):
        assert company_logo() is None


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.SELLER, Role.VIEWER])
def test_only_owners_and_admins_open_the_company_page(company_a, role):
    admin = pages_as(company_a, Role.ADMIN)
    assert admin.get(URL).status_code == 200
    logo = sent_logo(admin)
    admin.post(f"{URL}logo/", {"file": logo})
    before = Company.objects.values().get(pk=company_a.pk)
    client = pages_as(company_a, role)
    assert b'href="/settings/"' not in client.get("/").content
    assert client.get(URL).status_code == 403
    for url, data in (
        (URL, settings_data(name="Otra")),
        (f"{URL}logo/upload/", {"name": "a.png", "content_type": "image/png", "size": 9}),
        (f"{URL}logo/", {"file": logo}),
        (f"{URL}logo/remove/", {}),
    ):
        assert client.post(url, data).status_code == 403, url
    assert Company.objects.values().get(pk=company_a.pk) == before
    with tenant_context(company_a):
        assert str(company_logo().pk) == logo


def test_another_company_s_upload_is_not_found(company_a, company_b):
    owner_a = pages_as(company_a, Role.OWNER)
    spare = sent_logo(owner_a)
    other = pages_as(company_b, Role.OWNER)
    answer = other.post(f"{URL}logo/", {"file": spare})
    assert "No se encontró ese envío" in other.get(answer["Location"]).content.decode()
    with tenant_context(company_b):
        assert company_logo() is None
    with tenant_context(company_a):
        assert FileObject.objects.get(pk=spare).status == FileObject.Status.PENDING
        assert company_logo() is None


def as_opened(page) -> dict:
    """The settings form as the page rendered it: every input's value, hidden initials too."""
    from ally360.tests.pages import form_as_rendered

    return form_as_rendered(page, "settings-form")


def test_saving_writes_only_what_the_page_changed(company_a):
    owner = pages_as(company_a, Role.OWNER)
    opened = as_opened(owner.get(URL))
    # Meanwhile another admin (or the API) lets the counter sell without stock.
    Company.objects.filter(pk=company_a.pk).update(allow_negative_stock=True)
    assert owner.post(URL, {**opened, "name": "Tienda Nueva"}).status_code == 302
    company = Company.objects.get(pk=company_a.pk)
    assert (company.name, company.allow_negative_stock) == ("Tienda Nueva", True)
    long_email = f"{'a' * 250}@example.co"  # valid for the validator, too long for the column
    answer = owner.post(URL, {**as_opened(owner.get(URL)), "email": long_email})
    assert answer.status_code == 400 and answer.context["form"].errors["email"]
    assert Company.objects.get(pk=company_a.pk).email == company.email
