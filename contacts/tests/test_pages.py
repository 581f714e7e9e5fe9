"""The customer pages: the list and a new customer, with the API's rules (the NIT's check
digit, duplicates, sellers keep credit terms at their defaults)."""

from decimal import Decimal

import pytest

from ally360.roles import Role
from ally360.tenancy import tenant_context
from ally360.tests.pages import page_client
from conftest import _member
from contacts.models import Contact

pytestmark = pytest.mark.django_db


def pages_as(company, role):
    return page_client(_member(company, role), company)


def _customer(**fields):
    data = {
        "person_type": "natural",
        "id_type": "13",
        "id_number": "52.123.456",
        "name": "Ana Gómez",
        "phone": "300 1234567",
        "email": "",
        "address": "Cra 7 # 12-30",
        "city": "Bogotá",
    }
    data.update(fields)
    return data


def test_a_seller_adds_a_customer_at_the_counter_without_credit_terms(company_a):
    client = pages_as(company_a, Role.SELLER)
    form = client.get("/customers/new/").context["form"]
    assert "credit_limit" not in form.fields  # sellers keep the defaults
    response = client.post("/customers/new/", _customer(credit_limit="9999999"))
    assert response.status_code == 302, response.content.decode()[:1500]
    assert response["Location"] == "/customers/?q=52123456"
    with tenant_context(company_a):
        ana = Contact.objects.get(id_number="52123456")
    assert (ana.name, ana.phones, ana.city, ana.credit_limit) == (
        "Ana Gómez",
        ["300 1234567"],
        "Bogotá",
        Decimal("0"),
    )
    listed = client.get(response["Location"])
    assert [c.pk for c in listed.context["page_obj"]] == [ana.pk]
    assert "Cliente Ana Gómez creado" in listed.content.decode()


def test_an_owner_sets_the_credit_terms(company_a):
    client = pages_as(company_a, Role.OWNER)
    response = client.post(
        "/customers/new/",
        _customer(
            person_type="legal",
            id_type="31",
            id_number="900123456",
            name="Distribuidora Andina SAS",
            credit_limit="500000",
            payment_term_days="30",
        ),
    )
    assert response.status_code == 302
    with tenant_context(company_a):
        andina = Contact.objects.get(id_number="900123456")
    assert (andina.check_digit, andina.credit_limit, andina.payment_term_days) == (
        "8",
        Decimal("500000"),
        30,
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id_type": "31", "id_number": "900123456-1"}, "id_number"),  # wrong check digit
        ({"id_number": "222222222222"}, "id_number"),  # the final consumer's number
        ({"name": ""}, "name"),
        ({"city": ""}, "city"),  # an address needs its city
    ],
)
def test_bad_input_is_a_form_error_and_writes_nothing(company_a, change, field):
    client = pages_as(company_a, Role.OWNER)
    with tenant_context(company_a):
        before = Contact.objects.count()
    response = client.post("/customers/new/", _customer(**change))
    assert response.status_code == 400
    assert response.context["form"].errors.get(field), response.context["form"].errors
    with tenant_context(company_a):
        assert Contact.objects.count() == before


def test_a_customer_twice_is_refused(company_a):
    client = pages_as(company_a, Role.OWNER)
    assert client.post("/customers/new/", _customer()).status_code == 302
    again = client.post("/customers/new/", _customer(name="Otra Ana"))
    assert again.status_code == 400 and again.context["form"].errors.get("id_number")


def test_viewers_read_and_do_not_create_and_companies_stay_apart(company_a, company_b):
    pages_as(company_b, Role.OWNER).post("/customers/new/", _customer(name="De la tienda B"))
    viewer = pages_as(company_a, Role.VIEWER)
    listed = viewer.get("/customers/")
    assert listed.status_code == 200
    names = [c.name for c in listed.context["page_obj"]]
    assert names == ["Consumidor final"]  # nothing of company B
    assert b"/customers/new/" not in listed.content
    assert viewer.get("/customers/new/").status_code == 403
    assert viewer.post("/customers/new/", _customer()).status_code == 403
    with tenant_context(company_a):
        assert not Contact.objects.filter(id_number="52123456").exists()


def test_the_customer_list_reads_the_same_statements_whatever_the_page_holds(company_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = pages_as(company_a, Role.VIEWER)
    client.get("/customers/")  # the first request caches the member's role
    counts = []

    for extra in (1, 30):
        with tenant_context(company_a):
            Contact.objects.bulk_create(
                Contact(id_type="13", id_number=f"{extra}{n:06d}", name=f"Cliente {extra}-{n}")
                for n in range(extra)
            )
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/customers/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
