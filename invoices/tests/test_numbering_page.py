"""The numbering page: the DIAN ranges per point of sale with what is left and the service's
warnings, and a new resolution loaded (`numbering_range_create`): an active one replaces the
range in use; overlapping or backwards ranges on the form, nothing written; managers load,
the back office and sellers read; another company's points of sale and ranges stay apart."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from ally360.roles import Role
from ally360.tenancy import tenant_context
from inventory.tests.test_adjustment_page import pages_as
from invoices.models import NumberingRange

pytestmark = pytest.mark.django_db


def resolution(pdv, **fields) -> dict:
    today = timezone.localdate()
    return {
        "pdv": str(pdv.pk),
        "document_type": "pos",
        "resolution_number": "18764000000099",
        "prefix": "pfn",
        "range_from": "1",
        "range_to": "5000",
        "next_number": "",
        "valid_from": str(today),
        "valid_to": str(today + timedelta(days=365)),
        "technical_key": "",
        "is_active": "on",
        "range_key": str(uuid.uuid4()),
        **fields,
    }


def ranges(shop, **filters):
    with tenant_context(shop.company):
        return list(NumberingRange.objects.filter(pdv=shop.pdv, **filters).order_by("created_at"))


def test_an_owner_loads_a_resolution_that_replaces_the_range_in_use(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    assert b'href="/numbering/"' in owner.get("/").content
    before = ranges(shop_a, document_type="pos", is_active=True)
    assert len(before) == 1
    response = owner.post("/numbering/new/", resolution(shop_a.pdv))
    assert response.status_code == 302 and response["Location"] == "/numbering/"
    active = ranges(shop_a, document_type="pos", is_active=True)
    assert [(r.prefix, r.range_from, r.next_number) for r in active] == [("PFN", 1, 1)]
    page = owner.get("/numbering/").content.decode()
    assert "PFN1 – PFN5000" in page and "18764000000099" in page


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"range_from": "10", "range_to": "5"}, "range_to"),
        ({"valid_to": "2000-01-01"}, "valid_to"),
        ({"prefix": "A-1"}, "prefix"),
        ({"next_number": "6000"}, "next_number"),
        ({"resolution_number": ""}, "resolution_number"),
    ],
)
def test_refusals_come_back_on_the_form_and_write_nothing(shop_a, fields, where):
    owner = pages_as(shop_a.company, Role.OWNER)
    before = ranges(shop_a)
    response = owner.post("/numbering/new/", resolution(shop_a.pdv, **fields))
    assert response.status_code == 400
    assert response.context["form"].errors[where]
    assert ranges(shop_a) == before


def test_an_overlapping_range_of_the_same_prefix_is_refused(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    sent = resolution(shop_a.pdv)
    assert owner.post("/numbering/new/", sent).status_code == 302
    again = owner.post("/numbering/new/", sent, follow=True)  # a double click: loaded once
    assert "ya estaba cargada" in again.content.decode()
    again = owner.post(
        "/numbering/new/", resolution(shop_a.pdv, range_from="4000", range_to="9000")
    )
    assert again.status_code == 400 and again.context["form"].errors["range_from"]
    assert len(ranges(shop_a, prefix="PFN")) == 1


def test_a_range_running_out_shows_its_warning(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    data = resolution(shop_a.pdv, range_from="1", range_to="100", next_number="95")
    assert owner.post("/numbering/new/", data).status_code == 302
    page = owner.get("/numbering/").content.decode()
    assert "Solo quedan 6 números" in page


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.SELLER])
def test_the_back_office_and_sellers_read_managers_load(shop_a, role):
    client = pages_as(shop_a.company, role)
    assert client.get("/numbering/").status_code == 200
    assert b'href="/numbering/new/"' not in client.get("/numbering/").content
    assert client.get("/numbering/new/").status_code == 403
    before = ranges(shop_a)
    assert client.post("/numbering/new/", resolution(shop_a.pdv)).status_code == 403
    assert ranges(shop_a) == before
    assert pages_as(shop_a.company, Role.VIEWER).get("/numbering/").status_code == 403


def test_another_company_s_point_of_sale_and_ranges_stay_apart(shop_a, shop_b):
    assert (
        pages_as(shop_a.company, Role.OWNER)
        .post("/numbering/new/", resolution(shop_a.pdv))
        .status_code
        == 302
    )
    before_a, before_b = ranges(shop_a), ranges(shop_b)
    other = pages_as(shop_b.company, Role.OWNER)
    foreign = other.post("/numbering/new/", resolution(shop_a.pdv, prefix="ZZ"))
    assert foreign.status_code == 400 and foreign.context["form"].errors["pdv"]
    assert "PFN" not in other.get("/numbering/").content.decode()
    assert (ranges(shop_a), ranges(shop_b)) == (before_a, before_b)


def edited(numbering, **fields) -> dict:
    """The edit form as its page sends it: the values shown, with the hidden initials the page
    judges changes by (`NumberingRangeEditForm`), and `fields` typed over them."""
    shown = {
        "resolution_number": numbering.resolution_number,
        "prefix": numbering.prefix,
        "range_from": str(numbering.range_from),
        "range_to": str(numbering.range_to),
        "valid_from": str(numbering.valid_from),
        "valid_to": str(numbering.valid_to),
        "technical_key": numbering.technical_key,
    }
    initials = {f"initial-{name}": value for name, value in shown.items()}
    active = {"is_active": "on"} if numbering.is_active else {}
    initial_active = {"initial-is_active": str(numbering.is_active)}
    return {**shown, **initials, **active, **initial_active, **fields}


def test_a_range_in_use_is_extended_but_keeps_what_its_numbers_were_issued_under(shop_a):
    from django.db.models import F

    owner = pages_as(shop_a.company, Role.OWNER)
    (numbering,) = ranges(shop_a, document_type="pos", is_active=True)
    with tenant_context(shop_a.company):  # numbers of it were issued
        NumberingRange.objects.filter(pk=numbering.pk).update(next_number=F("range_from") + 5)
    url = f"/numbering/{numbering.pk}/edit/"
    assert url.encode() in owner.get("/numbering/").content
    assert owner.get(url).context["form"].initial["range_to"] == numbering.range_to
    renamed = owner.post(url, edited(numbering, prefix="ZZZ"))
    assert renamed.status_code == 400 and renamed.context["form"].non_field_errors()
    longer = str(numbering.range_to + 1000)
    extended = owner.post(url, edited(numbering, range_to=longer))
    assert extended.status_code == 302 and extended["Location"] == "/numbering/"
    (after,) = ranges(shop_a, pk=numbering.pk)
    assert (after.prefix, after.range_to, after.next_number) == (
        numbering.prefix, numbering.range_to + 1000, numbering.range_from + 5
    )  # fmt: skip


def test_a_range_s_page_opened_before_another_manager_changed_it_undoes_nothing(shop_a):
    """Only what was changed on the page is saved: a technical key typed on a page opened
    before another manager switched the range off and shortened it switched it on again at
    its old end. The dates are shown as a date input takes them (ISO), not left empty."""
    from ally360.tests.pages import form_as_rendered

    owner, admin = pages_as(shop_a.company, Role.OWNER), pages_as(shop_a.company, Role.ADMIN)
    (numbering,) = ranges(shop_a, document_type="pos", is_active=True)
    url = f"/numbering/{numbering.pk}/edit/"
    opened = form_as_rendered(owner.get(url), "numbering-form")
    assert opened["valid_to"] == opened["initial-valid_to"] == [str(numbering.valid_to)]
    assert opened["is_active"] == ["on"] and opened["initial-is_active"] == ["True"]
    ended = form_as_rendered(admin.get(url), "numbering-form")
    ended.pop("is_active")
    ended["range_to"] = [str(numbering.range_from + 99)]
    assert admin.post(url, ended).status_code == 302
    saved = owner.post(url, {**opened, "technical_key": ["clave-nueva"]})
    assert saved.status_code == 302
    (after,) = ranges(shop_a, pk=numbering.pk)
    assert (after.technical_key, after.is_active, after.range_to) == (
        "clave-nueva", False, numbering.range_from + 99
    )  # fmt: skip


def test_editing_a_range_keeps_roles_and_companies_apart(shop_a, shop_b):
    (numbering,) = ranges(shop_a, document_type="pos", is_active=True)
    url = f"/numbering/{numbering.pk}/edit/"
    accountant = pages_as(shop_a.company, Role.ACCOUNTANT)
    assert accountant.get(url).status_code == 403
    assert accountant.post(url, edited(numbering, range_to="1")).status_code == 403
    other = pages_as(shop_b.company, Role.OWNER)
    assert other.get(url).status_code == 404
    assert other.post(url, edited(numbering, range_to="1")).status_code == 404
    assert ranges(shop_a, pk=numbering.pk) == [numbering]
    (after,) = ranges(shop_a, pk=numbering.pk)
    assert after.range_to == numbering.range_to
