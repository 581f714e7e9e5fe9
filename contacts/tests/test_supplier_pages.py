"""The supplier pages, for the purchases: the list and a new supplier (`contact_create` with
the API's rules: the NIT's check digit, duplicates); the roles that buy; another company's
suppliers never listed."""

import pytest

from ally360.roles import Role
from ally360.tenancy import tenant_context
from contacts.models import Contact
from contacts.tests.test_pages import pages_as

pytestmark = pytest.mark.django_db


def supplier(**fields) -> dict:
    data = {
        "person_type": "legal",
        "id_type": "31",
        "id_number": "860001022",
        "name": "Café Sierra SAS",
        "phone": "601 5550000",
        "email": "",
        "address": "Cl 13 # 65-10",
        "city": "Bogotá",
        "payment_term_days": "30",
    }
    data.update(fields)
    return data


def test_an_accountant_adds_a_supplier_for_the_purchases(company_a):
    client = pages_as(company_a, Role.ACCOUNTANT)
    form = client.get("/suppliers/new/").context["form"]
    assert "credit_limit" not in form.fields and "payment_term_days" in form.fields
    response = client.post("/suppliers/new/", supplier())
    assert response.status_code == 302 and response["Location"] == "/purchases/new/"
    with tenant_context(company_a):
        made = Contact.objects.get(id_number="860001022")
    assert (made.is_supplier, made.is_customer, made.payment_term_days) == (True, False, 30)
    assert made.check_digit == "7"  # computed (python-stdnum)
    purchase_form = client.get(response["Location"])
    assert "Proveedor Café Sierra SAS creado" in purchase_form.content.decode()
    with tenant_context(company_a):
        assert made in purchase_form.context["form"].fields["supplier"].queryset
    listed = client.get("/suppliers/", {"q": "860.001.022"})
    assert [s.pk for s in listed.context["page_obj"]] == [made.pk]


def test_a_wrong_check_digit_or_a_taken_number_is_a_form_error(company_a):
    client = pages_as(company_a, Role.OWNER)
    wrong = client.post("/suppliers/new/", supplier(id_number="860001022-1"))
    assert wrong.status_code == 400 and wrong.context["form"].errors
    assert client.post("/suppliers/new/", supplier()).status_code == 302
    taken = client.post("/suppliers/new/", supplier(name="Otro"))
    assert taken.status_code == 400 and taken.context["form"].errors
    with tenant_context(company_a):
        assert Contact.objects.filter(is_supplier=True).count() == 1


@pytest.mark.parametrize("role", [Role.SELLER, Role.VIEWER])
def test_roles_that_do_not_buy_get_403(company_a, role):
    client = pages_as(company_a, role)
    assert client.get("/suppliers/").status_code == 403
    assert client.post("/suppliers/new/", supplier()).status_code == 403
    with tenant_context(company_a):
        assert not Contact.objects.filter(is_supplier=True).exists()


def test_another_company_s_suppliers_are_never_listed(company_a, company_b):
    assert pages_as(company_a, Role.OWNER).post("/suppliers/new/", supplier()).status_code == 302
    listed = pages_as(company_b, Role.OWNER).get("/suppliers/")
    assert list(listed.context["page_obj"]) == []


def test_an_e_mail_longer_than_its_column_is_a_form_error(company_a):
    """Django's e-mail check takes up to 320 characters, the column 254."""
    client = pages_as(company_a, Role.OWNER)
    response = client.post("/suppliers/new/", supplier(email="a" * 250 + "@example.com"))
    assert response.status_code == 400 and response.context["form"].errors["email"]
    with tenant_context(company_a):
        assert not Contact.objects.filter(is_supplier=True).exists()


def test_a_supplier_or_customer_form_sent_twice_creates_one_contact(company_a):
    """A double click: the second post finds the contact the first created."""
    client = pages_as(company_a, Role.OWNER)
    for url, data, where in (
        ("/suppliers/new/", supplier(), "/purchases/new/"),
        ("/customers/new/", supplier(id_number="900555111", name="Cliente SAS"), None),
    ):
        key = client.get(url).context["form"]["contact_key"].value()
        posted = {**data, "contact_key": str(key)}
        first, again = client.post(url, posted), client.post(url, posted)
        assert first.status_code == again.status_code == 302, again.context["form"].errors
        assert first["Location"] == again["Location"] and (
            where is None or where == first["Location"]
        )
        assert "Este contacto ya estaba creado" in client.get(again["Location"]).content.decode()
    with tenant_context(company_a):
        assert Contact.objects.filter(id_number__in=["860001022", "900555111"]).count() == 2
