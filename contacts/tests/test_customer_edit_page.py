"""Editing a customer from its page: `contact_update` with the API's rules; the phones and
addresses the form does not show are kept; sellers never touch credit terms or the active flag;
another company's customer is a 404."""

from decimal import Decimal

import pytest

from ally360.roles import Role
from ally360.tenancy import tenant_context
from contacts.models import Contact
from contacts.services import contact_create
from contacts.tests.test_pages import _customer, pages_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(company_a):
    with tenant_context(company_a):
        return contact_create(
            role=Role.OWNER,
            person_type="natural",
            id_type="13",
            id_number="52123456",
            name="Ana Gómez",
            phones=["300 1234567", "601 5550000"],
            addresses=[
                {"line": "Cra 7 # 12-30", "city": "Bogotá"},
                {"line": "Finca La Esperanza", "city": "Chía"},
            ],
            is_customer=True,
            credit_limit=Decimal("500000"),
            payment_term_days=30,
        )


def url(contact) -> str:
    return f"/customers/{contact.pk}/edit/"


def test_an_owner_edits_a_customer_and_the_other_phones_and_addresses_stay(company_a, ana):
    owner = pages_as(company_a, Role.OWNER)
    shown = owner.get(url(ana))
    assert shown.status_code == 200
    assert shown.context["form"]["phone"].value() == "300 1234567"
    assert shown.context["form"]["credit_limit"].value() == Decimal("500000.00")
    data = _customer(
        name="Ana María Gómez",
        phone="310 9999999",
        address="Calle 80 # 20-10",
        city="Medellín",
        credit_limit="800000",
        payment_term_days="45",
        is_active="on",
    )
    response = owner.post(url(ana), data)
    assert response.status_code == 302, response.context["form"].errors
    with tenant_context(company_a):
        ana.refresh_from_db()
    assert ana.name == "Ana María Gómez"
    assert ana.phones == ["310 9999999", "601 5550000"]
    assert [a["city"] for a in ana.addresses] == ["Medellín", "Chía"] and ana.city == "Medellín"
    assert (ana.credit_limit, ana.payment_term_days, ana.is_active) == (800000, 45, True)
    assert "Cliente Ana María Gómez guardado" in owner.get(response["Location"]).content.decode()
    # Unticked "Active": the customer is deactivated.
    assert owner.post(url(ana), _customer(name="Ana María Gómez")).status_code == 302
    with tenant_context(company_a):
        ana.refresh_from_db()
    assert ana.is_active is False


def test_a_seller_edits_the_details_but_not_credit_terms_or_the_active_flag(company_a, ana):
    seller = pages_as(company_a, Role.SELLER)
    form = seller.get(url(ana)).context["form"]
    assert not {"credit_limit", "payment_term_days", "is_active"} & set(form.fields)
    response = seller.post(url(ana), _customer(phone="311 0000000", credit_limit="1"))
    assert response.status_code == 302
    with tenant_context(company_a):
        ana.refresh_from_db()
    assert ana.phones[0] == "311 0000000"
    assert (ana.credit_limit, ana.payment_term_days, ana.is_active) == (500000, 30, True)


def test_refusals_come_back_on_the_form_and_change_nothing(company_a, ana):
    owner = pages_as(company_a, Role.OWNER)
    with tenant_context(company_a):
        contact_create(
            role=Role.OWNER,
            person_type="natural",
            id_type="13",
            id_number="1010",
            name="Otro",
            is_customer=True,
        )
        consumer = Contact.objects.get(is_final_consumer=True)
    taken = owner.post(url(ana), _customer(id_number="1010"))
    assert taken.status_code == 400 and taken.context["form"].errors
    bad_nit = owner.post(url(ana), _customer(id_type="31", id_number="900123456-1"))
    assert bad_nit.status_code == 400 and bad_nit.context["form"].errors
    final = owner.post(url(consumer), _customer(id_number="99"))
    assert final.status_code == 400 and final.context["form"].errors
    with tenant_context(company_a):
        ana.refresh_from_db()
        consumer.refresh_from_db()
    assert (ana.id_number, ana.name) == ("52123456", "Ana Gómez")
    assert consumer.id_number == "222222222222"


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.VIEWER])
def test_who_may_edit(company_a, ana, role):
    client = pages_as(company_a, role)
    expected = 403 if role == Role.VIEWER else 200
    assert client.get(url(ana)).status_code == expected
    listed = client.get("/customers/").content
    assert (url(ana).encode() in listed) is (role != Role.VIEWER)


def test_another_company_s_customer_is_404(company_b, ana):
    other = pages_as(company_b, Role.OWNER)
    assert other.get(url(ana)).status_code == 404
    assert other.post(url(ana), _customer(name="Robado")).status_code == 404
    with tenant_context(ana.tenant_id):
        ana.refresh_from_db()
    assert ana.name == "Ana Gómez"


# --- found in review ---------------------------------------------------------------------------


def test_the_first_address_keeps_what_the_form_does_not_show(company_a):
    """Its label, department and DANE code (given through the API) stay on an unchanged save;
    a new city drops the old city's department and DANE code."""
    with tenant_context(company_a):
        ana = contact_create(
            role=Role.OWNER,
            person_type="natural",
            id_type="13",
            id_number="52123456",
            name="Ana Gómez",
            addresses=[
                {
                    "label": "Casa",
                    "line": "Cra 7 # 12-30",
                    "city": "Bogotá",
                    "department": "Cundinamarca",
                    "dane_code": "11001",
                }
            ],
            is_customer=True,
        )
        before = ana.addresses[0]
    owner = pages_as(company_a, Role.OWNER)
    assert owner.post(url(ana), _customer(is_active="on")).status_code == 302
    with tenant_context(company_a):
        ana.refresh_from_db()
    assert ana.addresses[0] == before
    assert owner.post(url(ana), _customer(city="Medellín", is_active="on")).status_code == 302
    with tenant_context(company_a):
        ana.refresh_from_db()
    assert ana.addresses[0]["label"] == "Casa" and ana.addresses[0]["city"] == "Medellín"
    assert "dane_code" not in ana.addresses[0] and "department" not in ana.addresses[0]


def test_an_e_mail_longer_than_its_column_is_a_form_error(company_a, ana):
    response = pages_as(company_a, Role.SELLER).post(
        url(ana), _customer(email="b" * 250 + "@example.com")
    )
    assert response.status_code == 400 and response.context["form"].errors["email"]
