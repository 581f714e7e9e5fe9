"""The supplier pages, for the purchases: the list, a new supplier (`contact_create` with the
API's rules: the NIT's check digit, duplicates) and editing one (`contact_update`); the roles
that buy; another company's suppliers never listed nor edited."""

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


def made_supplier(client, company, **fields) -> Contact:
    assert client.post("/suppliers/new/", supplier(**fields)).status_code == 302
    with tenant_context(company):
        return Contact.objects.get(id_number=fields.get("id_number", "860001022"))


def test_an_accountant_edits_a_supplier_its_term_and_whether_it_is_active(company_a):
    client = pages_as(company_a, Role.ACCOUNTANT)
    made = made_supplier(client, company_a)
    listed = client.get("/suppliers/").content.decode()
    assert f'href="/suppliers/{made.pk}/edit/"' in listed
    form = client.get(f"/suppliers/{made.pk}/edit/").context["form"]
    assert "credit_limit" not in form.fields and form.initial["payment_term_days"] == 30
    edited = supplier(
        name="Café Sierra S.A.S.", phone="601 5550001", payment_term_days="45", is_active=""
    )
    response = client.post(f"/suppliers/{made.pk}/edit/", edited)
    assert response.status_code == 302
    assert response["Location"] == "/suppliers/?q=860001022"
    with tenant_context(company_a):
        made.refresh_from_db()
    assert (made.name, made.payment_term_days, made.is_active) == ("Café Sierra S.A.S.", 45, False)
    assert made.phones == ["601 5550001"] and (made.is_supplier, made.is_customer) == (True, False)
    assert (
        "Proveedor Café Sierra S.A.S. guardado" in client.get(response["Location"]).content.decode()
    )


def test_a_supplier_edit_refused_by_the_service_writes_nothing(company_a):
    client = pages_as(company_a, Role.OWNER)
    made = made_supplier(client, company_a)
    other = made_supplier(client, company_a, id_number="900123456", name="Otro")
    taken = client.post(f"/suppliers/{other.pk}/edit/", supplier(name="Otro", is_active="on"))
    assert taken.status_code == 400 and taken.context["form"].errors
    wrong_digit = supplier(id_number="860001022-1", is_active="on")
    assert client.post(f"/suppliers/{made.pk}/edit/", wrong_digit).status_code == 400
    with tenant_context(company_a):
        other.refresh_from_db()
        made.refresh_from_db()
    assert (other.id_number, other.name) == ("900123456", "Otro")
    assert made.check_digit == "7"


@pytest.mark.parametrize("role", [Role.SELLER, Role.VIEWER])
def test_roles_that_do_not_buy_cannot_edit_a_supplier(company_a, company_b, role):
    made = made_supplier(pages_as(company_a, Role.OWNER), company_a)
    client = pages_as(company_a, role)
    assert client.get(f"/suppliers/{made.pk}/edit/").status_code == 403
    assert client.post(f"/suppliers/{made.pk}/edit/", supplier(name="X")).status_code == 403
    foreign = pages_as(company_b, Role.OWNER)
    assert foreign.get(f"/suppliers/{made.pk}/edit/").status_code == 404
    assert foreign.post(f"/suppliers/{made.pk}/edit/", supplier(name="X")).status_code == 404
    with tenant_context(company_a):
        made.refresh_from_db()
    assert made.name == "Café Sierra SAS"
