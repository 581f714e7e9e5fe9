"""The taxes and units page: managers add a tax or a unit (`tax_create`, `unit_create`, once
per form), change one (`tax_update`, `unit_update`) or delete one no product uses; the
services' refusals (a taxed rate of zero, an exempt INC, a name or code already used, the kind
of a tax in use) come back with nothing written; every role reads; another company's rows are
404 and stay."""

from __future__ import annotations

import uuid

import pytest

from ally360.models import IdempotencyRecord
from ally360.roles import Role
from ally360.tenancy import tenant_context
from ally360.tests.pages import row_counts
from inventory.tests.test_adjustment_page import pages_as
from products.models import ProductTax, Tax, Unit

pytestmark = pytest.mark.django_db

URL = "/taxes/"
WRITTEN = (Tax, Unit, ProductTax, IdempotencyRecord)


def new_tax(name, kind="inc", treatment="taxed", rate="16", key=None) -> dict:
    return {
        "tax-name": name,
        "tax-kind": kind,
        "tax-treatment": treatment,
        "tax-rate": rate,
        "tax-key": key or str(uuid.uuid4()),
    }


def new_unit(code, name, decimals=False, dian="") -> dict:
    data = {"unit-code": code, "unit-name": name, "unit-dian_code": dian}
    if decimals:
        data["unit-allows_decimals"] = "on"
    return {**data, "unit-key": str(uuid.uuid4())}


def tax_named(shop, name) -> Tax:
    with tenant_context(shop.company):
        return Tax.objects.get(name=name)


def unit_coded(shop, code) -> Unit:
    with tenant_context(shop.company):
        return Unit.objects.get(code=code)


def test_an_owner_adds_a_tax_and_a_unit_the_product_form_then_offers(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    assert b'href="/taxes/"' in owner.get("/products/").content
    sent = new_tax("INC 16%")
    assert owner.post(URL, sent).status_code == 302
    assert owner.post(URL, sent).status_code == 302  # a double click adds it once
    assert owner.post(URL, new_unit("DOC", "Docena", dian="DZN")).status_code == 302
    inc = tax_named(shop_a, "INC 16%")
    assert (inc.kind, inc.treatment, inc.rate, inc.dian_code) == ("inc", "taxed", 16, "04")
    dozen = unit_coded(shop_a, "doc")  # codes are kept lower-case
    assert (dozen.name, dozen.dian_code, dozen.allows_decimals) == ("Docena", "DZN", False)
    page = owner.get(URL).content.decode()
    assert "Impuesto INC 16% creado" in page and "Unidad Docena creada" in page
    form = owner.get("/products/new/").context["form"]
    with tenant_context(shop_a.company):
        assert inc in form.fields["inc"].queryset and dozen in form.fields["unit"].queryset
        assert Tax.objects.filter(name__iexact="inc 16%").count() == 1


def test_the_services_refusals_come_back_on_the_form_and_write_nothing(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    before = row_counts(shop_a.company, *WRITTEN)
    for data, field, text in (
        (new_tax("IVA cero", kind="iva", rate="0"), "rate", "mayor que cero"),
        (new_tax("INC exento", treatment="exempt", rate="0"), "treatment", "no tiene tratamiento"),
        (new_tax("Raro", kind="iva", treatment="excluded", rate="5"), "rate", "tarifa cero"),
        (new_tax("iva 19%", kind="iva", rate="19"), "name", "Ya existe un impuesto"),
        (new_tax("Sobre cien", rate="101"), "rate", "100"),
    ):
        answer = owner.post(URL, data)
        assert answer.status_code == 400, data
        assert text in " ".join(answer.context["tax_form"].errors[field]), data
    taken = owner.post(URL, new_unit("KG", "Kilo"))
    assert taken.status_code == 400
    assert "Ya existe una unidad con el código kg" in " ".join(
        taken.context["unit_form"].errors["code"]
    )
    assert row_counts(shop_a.company, *WRITTEN) == before


def test_a_tax_is_changed_but_keeps_its_kind_while_products_carry_it(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    used = tax_named(shop_a, "INC 8%")
    url = f"/taxes/{used.pk}/"
    assert owner.get(url).status_code == 200
    edit = {"name": "INC 8%", "kind": "iva", "treatment": "taxed", "rate": "8", "is_active": "on"}
    refused = owner.post(url, edit)
    assert refused.status_code == 400
    assert "su tipo no puede cambiar" in refused.content.decode()
    assert tax_named(shop_a, "INC 8%").kind == "inc"
    edit.update(kind="inc", name="INC restaurantes")  # the unticked box: deactivated
    del edit["is_active"]
    assert owner.post(url, edit).status_code == 302
    changed = tax_named(shop_a, "INC restaurantes")
    assert (changed.kind, changed.rate, changed.is_active) == ("inc", 8, False)
    form = owner.get("/products/new/").context["form"]
    with tenant_context(shop_a.company):
        assert changed not in form.fields["inc"].queryset


def test_a_unit_is_changed_and_a_tax_or_unit_is_deleted_unless_products_use_it(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    box = unit_coded(shop_a, "box")
    data = {"code": "CJ", "name": "Caja x 12", "dian_code": "BX", "allows_decimals": ""}
    assert owner.post(f"/units/{box.pk}/", data).status_code == 302
    assert unit_coded(shop_a, "cj").name == "Caja x 12"
    owner.post(URL, new_tax("INC 16%"))
    used_tax, free_tax = tax_named(shop_a, "IVA 19%"), tax_named(shop_a, "INC 16%")
    used = owner.post(f"/taxes/{used_tax.pk}/delete/")
    assert used["Location"] == f"/taxes/{used_tax.pk}/"
    assert "Hay productos con este impuesto" in owner.get(used["Location"]).content.decode()
    deleted = owner.post(f"/taxes/{free_tax.pk}/delete/")
    assert deleted["Location"] == URL
    assert "Impuesto INC 16% eliminado" in owner.get(URL).content.decode()
    unit = unit_coded(shop_a, "unit")  # the shop's products are sold by the unit
    used = owner.post(f"/units/{unit.pk}/delete/")
    assert "Hay productos con esta unidad" in owner.get(used["Location"]).content.decode()
    owner.post(f"/units/{box.pk}/delete/")
    with tenant_context(shop_a.company):
        assert Tax.objects.filter(pk=used_tax.pk).exists()
        assert not Tax.objects.filter(pk=free_tax.pk).exists()
        assert Unit.objects.filter(pk=unit.pk).exists()
        assert not Unit.objects.filter(pk=box.pk).exists()


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.SELLER, Role.VIEWER])
def test_every_role_reads_managers_write(shop_a, role):
    tax, unit = tax_named(shop_a, "IVA 5%"), unit_coded(shop_a, "box")
    before = row_counts(shop_a.company, *WRITTEN)
    client = pages_as(shop_a.company, role)
    page = client.get(URL)
    assert page.status_code == 200 and "IVA 5%" in page.content.decode()
    assert page.context["tax_form"] is None and page.context["unit_form"] is None
    assert f"/taxes/{tax.pk}/" not in page.content.decode()
    for url in (f"/taxes/{tax.pk}/", f"/units/{unit.pk}/"):
        assert client.get(url).status_code == 403
    for url, data in (
        (URL, new_tax("Otro")),
        (URL, new_unit("x", "X")),
        (f"/taxes/{tax.pk}/", {"name": "X", "kind": "iva", "treatment": "taxed", "rate": "5"}),
        (f"/taxes/{tax.pk}/delete/", {}),
        (f"/units/{unit.pk}/", {"code": "x", "name": "X"}),
        (f"/units/{unit.pk}/delete/", {}),
    ):
        assert client.post(url, data).status_code == 403, url
    assert row_counts(shop_a.company, *WRITTEN) == before
    assert tax_named(shop_a, "IVA 5%").rate == 5 and unit_coded(shop_a, "box").name == "Caja"


def test_another_company_s_rows_are_404_and_stay(shop_a, shop_b):
    tax, unit = tax_named(shop_a, "IVA 5%"), unit_coded(shop_a, "box")
    owner_a = pages_as(shop_a.company, Role.OWNER)
    owner_a.post(URL, new_tax("INC 16%"))
    before = row_counts(shop_a.company, *WRITTEN)
    other = pages_as(shop_b.company, Role.OWNER)
    assert "INC 16%" not in other.get(URL).content.decode()
    for url in (f"/taxes/{tax.pk}/", f"/units/{unit.pk}/"):
        assert other.get(url).status_code == 404
    for url, data in (
        (f"/taxes/{tax.pk}/", {"name": "X", "kind": "iva", "treatment": "taxed", "rate": "7"}),
        (f"/taxes/{tax.pk}/delete/", {}),
        (f"/units/{unit.pk}/", {"code": "x", "name": "X"}),
        (f"/units/{unit.pk}/delete/", {}),
    ):
        assert other.post(url, data).status_code == 404, url
    assert row_counts(shop_a.company, *WRITTEN) == before
    assert tax_named(shop_a, "IVA 5%").rate == 5 and unit_coded(shop_a, "box").name == "Caja"


def test_the_list_reads_the_same_statements_whatever_its_length(shop_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    owner = pages_as(shop_a.company, Role.OWNER)
    counts = []
    for number in range(3):
        owner.post(URL, new_tax(f"INC {number + 10}%", rate=str(number + 10)))
        owner.post(URL, new_unit(f"u{number}", f"Unidad {number}"))
        with CaptureQueriesContext(connection) as queries:
            assert owner.get(URL).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] == counts[2], counts
