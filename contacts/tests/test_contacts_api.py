"""contacts/: Colombian fiscal ids, uniqueness, the final consumer, roles and isolation."""

import pytest

from ally360.roles import Role
from ally360.tenancy import tenant_context
from conftest import ALL_ROLES, error_code
from contacts.models import Contact

pytestmark = pytest.mark.django_db

URL = "/api/v1/contacts/"


def nit_payload(number="800197268", **extra):
    return {
        "id_type": "31",
        "id_number": number,
        "name": "Proveedor SAS",
        "person_type": "legal",
        "is_supplier": True,
        **extra,
    }


@pytest.mark.parametrize(
    ("number", "digit"), [("800197268", "4"), ("800191045", "1"), ("901451481", "2")]
)
def test_nit_check_digit_is_computed_and_verified(owner_a, number, digit):
    computed = owner_a.post(URL, nit_payload(number), format="json")
    assert computed.status_code == 201, computed.json()
    assert computed.json()["check_digit"] == digit
    assert computed.json()["identification"] == f"{number}-{digit}"
    owner_a.delete(f"{URL}{computed.json()['id']}/")
    typed = owner_a.post(URL, nit_payload(f"{number}-{digit}"), format="json")
    assert typed.status_code == 201
    separate = owner_a.patch(f"{URL}{typed.json()['id']}/", {"check_digit": digit}, format="json")
    assert separate.status_code == 200


def test_a_wrong_nit_check_digit_names_the_expected_one(owner_a, company_a):
    response = owner_a.post(URL, nit_payload("800197268-5"), format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["expected_check_digit"] == "4"
    assert "el dígito esperado es 4" in error["message"]
    assert "id_number" in error["fields"]
    with tenant_context(company_a):
        assert not Contact.objects.filter(id_number="800197268").exists()


def test_identification_rules(owner_a):
    cc_with_dv = owner_a.post(
        URL,
        {"id_type": "13", "id_number": "1020304050", "name": "Ana", "check_digit": "3"},
        format="json",
    )
    assert cc_with_dv.status_code == 400
    letters_in_cc = owner_a.post(
        URL, {"id_type": "13", "id_number": "10A20", "name": "Ana"}, format="json"
    )
    assert letters_in_cc.status_code == 400
    passport = owner_a.post(
        URL, {"id_type": "41", "id_number": "ab12345", "name": "John"}, format="json"
    )
    assert passport.status_code == 201 and passport.json()["id_number"] == "AB12345"
    dotted = owner_a.post(
        URL, {"id_type": "13", "id_number": "1.020.304.050", "name": "Ana"}, format="json"
    )
    assert dotted.status_code == 201 and dotted.json()["id_number"] == "1020304050"
    legal_with_cc = owner_a.post(
        URL,
        {"id_type": "13", "id_number": "99887766", "name": "X SAS", "person_type": "legal"},
        format="json",
    )
    assert legal_with_cc.status_code == 400
    reserved = owner_a.post(
        URL, {"id_type": "13", "id_number": "222222222222", "name": "X"}, format="json"
    )
    assert reserved.status_code == 400


def test_duplicate_identification_is_a_conflict_never_a_500(owner_a, company_a):
    assert owner_a.post(URL, nit_payload(), format="json").status_code == 201
    for spelling in ("800.197.268-4", "000800197268-4"):  # zero-padded, as imports write it
        again = owner_a.post(URL, nit_payload(spelling, name="Otro"), format="json")
        assert again.status_code == 409
        assert error_code(again) == "duplicate"

    other = owner_a.post(
        URL, {"id_type": "13", "id_number": "12345678", "name": "B"}, format="json"
    )
    moved = owner_a.patch(
        f"{URL}{other.json()['id']}/", {"id_type": "31", "id_number": "800197268"}, format="json"
    )
    assert moved.status_code == 409
    with tenant_context(company_a):
        assert Contact.objects.filter(id_number="800197268").count() == 1


def test_the_same_identification_in_two_companies(owner_a, owner_b):
    assert owner_a.post(URL, nit_payload(), format="json").status_code == 201
    assert owner_b.post(URL, nit_payload(), format="json").status_code == 201


def test_full_contact_with_addresses_and_responsibilities(owner_a, company_a):
    payload = nit_payload(
        trade_name="Distribuidora",
        email="compras@prov.co",
        phones=["6015551234", "3001234567"],
        fiscal_responsibilities=["O-13", "O-15", "O-13"],
        tax_regime="iva",
        addresses=[
            {
                "label": "Sede",
                "line": "Cra 7 # 12-34",
                "city": "Bogotá",
                "department": "Cundinamarca",
                "dane_code": "11001",
            }
        ],
        payment_term_days=30,
        credit_limit="5000000.00",
        is_customer=True,
    )
    response = owner_a.post(URL, payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["fiscal_responsibilities"] == ["O-13", "O-15"]
    assert body["addresses"][0]["country"] == "CO"
    assert body["city"] == "Bogotá"
    bad = owner_a.post(
        URL,
        {
            **nit_payload("900123456"),
            "addresses": [{"line": "x", "city": "Cali", "dane_code": "76"}],
        },
        format="json",
    )
    assert bad.status_code == 400
    assert "addresses" in bad.json()["error"]["fields"]
    bad_responsibility = owner_a.post(
        URL, nit_payload("900123456", fiscal_responsibilities=["X"]), format="json"
    )
    assert bad_responsibility.status_code == 400


def test_search_filter_and_order(owner_a):
    owner_a.post(
        URL,
        {
            "id_type": "13",
            "id_number": "111111",
            "name": "Zoila Pérez",
            "email": "zoila@x.co",
            "addresses": [{"line": "a", "city": "Cali"}],
        },
        format="json",
    )
    owner_a.post(
        URL,
        nit_payload(
            name="Acme SAS", trade_name="Tienda Acme", addresses=[{"line": "b", "city": "Bogotá"}]
        ),
        format="json",
    )
    names = lambda r: [c["name"] for c in r.json()["results"]]
    assert names(owner_a.get(URL, {"search": "acme"})) == ["Acme SAS"]
    assert names(owner_a.get(URL, {"search": "tienda"})) == ["Acme SAS"]  # trade name only

    assert names(owner_a.get(URL, {"search": "111111"})) == ["Zoila Pérez"]
    assert names(owner_a.get(URL, {"search": "zoila@"})) == ["Zoila Pérez"]
    assert names(owner_a.get(URL, {"is_supplier": "true"})) == ["Acme SAS"]
    assert names(owner_a.get(URL, {"city": "cali"})) == ["Zoila Pérez"]
    ordered = names(owner_a.get(URL, {"ordering": "-name", "is_final_consumer": "false"}))
    assert ordered[0] == "Zoila Pérez"
    zoila = owner_a.get(URL, {"search": "zoila"}).json()["results"][0]
    neither = owner_a.patch(f"{URL}{zoila['id']}/", {"is_customer": False}, format="json")
    assert neither.status_code == 400  # a contact is a customer, a supplier or both
    changed = owner_a.patch(
        f"{URL}{zoila['id']}/",
        {"is_active": False, "is_customer": False, "is_supplier": True},
        format="json",
    )
    assert changed.status_code == 200, changed.json()

    assert names(owner_a.get(URL, {"is_active": "false"})) == ["Zoila Pérez"]
    assert "Zoila Pérez" not in names(owner_a.get(URL, {"is_active": "true"}))
    assert "Zoila Pérez" not in names(owner_a.get(URL, {"is_customer": "true"}))
    assert "Zoila Pérez" in names(owner_a.get(URL, {"is_customer": "false"}))


def test_every_company_has_its_final_consumer(owner_a, company_a):
    found = owner_a.get(URL, {"search": "222222222222"}).json()["results"]
    assert len(found) == 1 and found[0]["is_final_consumer"] is True
    contact_id = found[0]["id"]
    assert error_code(owner_a.delete(f"{URL}{contact_id}/")) == "final_consumer"
    deactivate = owner_a.patch(f"{URL}{contact_id}/", {"is_active": False}, format="json")
    assert deactivate.status_code == 409
    renamed = owner_a.patch(f"{URL}{contact_id}/", {"email": "caja@tienda.co"}, format="json")
    assert renamed.status_code == 200
    with tenant_context(company_a):
        consumer = Contact.objects.get(is_final_consumer=True)
        assert consumer.is_active and consumer.email == "caja@tienda.co"


def test_unused_contact_is_deleted(owner_a, company_a):
    created = owner_a.post(URL, nit_payload(), format="json").json()
    assert owner_a.delete(f"{URL}{created['id']}/").status_code == 204
    with tenant_context(company_a):
        assert not Contact.objects.filter(pk=created["id"]).exists()


@pytest.mark.parametrize("role", ALL_ROLES)
def test_contact_roles(company_a, client_as, role):
    client = client_as(company_a, role)
    assert client.get(URL).status_code == 200
    created = client.post(URL, nit_payload(), format="json")
    can_write = role in {Role.OWNER, Role.ADMIN, Role.ACCOUNTANT, Role.SELLER}
    assert created.status_code == (201 if can_write else 403)
    with tenant_context(company_a):
        contact = Contact.objects.filter(id_number="800197268").first()
        assert (contact is not None) is can_write
        if contact is None:
            contact = Contact.objects.create(id_type="13", id_number="555", name="Seed")
    patched = client.patch(f"{URL}{contact.id}/", {"name": "Nuevo"}, format="json")
    assert patched.status_code == (200 if can_write else 403)
    deleted = client.delete(f"{URL}{contact.id}/")
    can_delete = role in {Role.OWNER, Role.ADMIN, Role.ACCOUNTANT}
    assert deleted.status_code == (204 if can_delete else 403)


def test_sellers_register_customers_but_do_not_grant_credit_terms(company_a, client_as, owner_a):
    """A seller who could set a customer's credit limit to 0 (no limit), a longer term or a
    cheaper list would lift the limits the owner set; those terms are for owner, admin and
    accountant. Everything else a seller may write."""
    seller = client_as(company_a, Role.SELLER)
    accountant = client_as(company_a, Role.ACCOUNTANT)
    wholesale = owner_a.post(
        "/api/v1/price-lists/", {"name": "Mayoristas", "percentage": "10"}, format="json"
    ).json()
    for terms in (
        {"credit_limit": "500000"},
        {"payment_term_days": 30},
        {"default_price_list": wholesale["id"]},
    ):
        refused = seller.post(URL, nit_payload(is_customer=True, **terms), format="json")
        assert refused.status_code == 403 and error_code(refused) == "credit_terms_not_allowed", (
            terms
        )
        assert set(refused.json()["error"]["fields"]) == set(terms)
    with tenant_context(company_a):
        assert not Contact.objects.filter(id_number="800197268").exists()
    created = seller.post(
        URL, nit_payload(is_customer=True, credit_limit="0", payment_term_days=0), format="json"
    )
    assert created.status_code == 201, created.json()
    contact = f"{URL}{created.json()['id']}/"
    granted = accountant.patch(
        contact, {"credit_limit": "300000", "payment_term_days": 30}, format="json"
    )
    assert granted.status_code == 200, granted.json()
    lifted = seller.patch(contact, {"credit_limit": "0", "name": "Otro nombre"}, format="json")
    assert lifted.status_code == 403 and error_code(lifted) == "credit_terms_not_allowed"
    same = seller.put(
        contact,
        {
            **nit_payload(is_customer=True),
            "credit_limit": "300000",
            "payment_term_days": 30,
            "phones": ["3001234567"],
        },
        format="json",
    )
    assert same.status_code == 200, same.json()  # the terms as they are: no change
    stored = owner_a.get(contact).json()
    assert (stored["credit_limit"], stored["payment_term_days"], stored["phones"]) == (
        "300000.00",
        30,
        ["3001234567"],
    )


def test_another_companys_contact_is_not_found(owner_a, owner_b, company_b):
    theirs = owner_b.post(URL, nit_payload(), format="json").json()
    assert owner_a.get(f"{URL}{theirs['id']}/").status_code == 404
    assert (
        owner_a.patch(f"{URL}{theirs['id']}/", {"name": "Hacked"}, format="json").status_code == 404
    )
    assert owner_a.delete(f"{URL}{theirs['id']}/").status_code == 404
    assert theirs["id"] not in [c["id"] for c in owner_a.get(URL).json()["results"]]
    with tenant_context(company_b):
        assert Contact.objects.get(pk=theirs["id"]).name == "Proveedor SAS"


def test_another_companys_seller_or_price_list_in_a_payload_is_refused(owner_a, owner_b, company_a):
    seller_b = owner_b.post("/api/v1/sellers/", {"name": "Vendedor B"}, format="json").json()
    list_b = owner_b.get("/api/v1/price-lists/").json()["results"][0]
    for field, value in (("default_seller", seller_b["id"]), ("default_price_list", list_b["id"])):
        response = owner_a.post(URL, nit_payload(**{field: value}), format="json")
        assert response.status_code == 400
        assert field in response.json()["error"]["fields"]
    with tenant_context(company_a):
        assert not Contact.objects.filter(id_number="800197268").exists()


def test_contact_ref_rows_render_what_the_serializer_renders(owner_a, company_a):
    """Document lists render their customers and suppliers from rows (`contact_ref_rows`): the
    answer must be ContactRefSerializer's, with and without a NIT check digit."""
    from ally360.api.serializers import ContactRefSerializer
    from contacts.api import contact_ref_rows

    assert owner_a.post(URL, nit_payload(), format="json").status_code == 201
    with tenant_context(company_a):
        Contact.objects.create(id_type="13", id_number="1020304050", name="Cédula")
        contacts = list(Contact.objects.order_by("name"))
        assert {bool(c.check_digit) for c in contacts} == {True, False}
        renderer = contact_ref_rows()
        rows = list(renderer.rows(Contact.objects.order_by("name")))
        rendered = renderer.render(rows)
    assert rendered == ContactRefSerializer(contacts, many=True).data


def test_addresses_sent_in_a_patch_get_their_defaults_as_in_a_post(owner_a, company_a):
    created = owner_a.post(URL, nit_payload(), format="json")
    assert created.status_code == 201
    address = {"line": "Cra 7 # 12-34", "city": "Bogotá"}
    patched = owner_a.patch(
        f"{URL}{created.json()['id']}/", {"addresses": [address]}, format="json"
    )
    assert patched.status_code == 200, patched.json()
    with tenant_context(company_a):
        (stored,) = Contact.objects.get(pk=created.json()["id"]).addresses
    assert stored == {
        **address,
        "label": "",
        "department": "",
        "dane_code": "",
        "country": "CO",
        "postal_code": "",
    }
    incomplete = owner_a.patch(
        f"{URL}{created.json()['id']}/", {"addresses": [{"line": "x"}]}, format="json"
    )
    assert incomplete.status_code == 400
    assert list(incomplete.json()["error"]["fields"]["addresses"]["0"]) == ["city"]


def test_sellers_neither_deactivate_nor_reactivate_contacts(company_a, client_as, owner_a):
    """As on the pages, where the field is not theirs: deactivating is the office's."""
    seller = client_as(company_a, Role.SELLER)
    created = seller.post(URL, nit_payload(is_customer=True), format="json")
    assert created.status_code == 201
    contact = f"{URL}{created.json()['id']}/"
    refused = seller.patch(contact, {"is_active": False}, format="json")
    assert refused.status_code == 403 and error_code(refused) == "activation_not_allowed"
    assert owner_a.patch(contact, {"is_active": False}, format="json").status_code == 200
    back = seller.patch(contact, {"is_active": True}, format="json")
    assert back.status_code == 403 and owner_a.get(contact).json()["is_active"] is False
    inactive = seller.post(URL, {**nit_payload(id_number="900123456"), "is_active": False})
    assert inactive.status_code == 403
    assert seller.patch(contact, {"name": "Otro", "is_active": False}).status_code == 200


@pytest.mark.parametrize(
    "change", [{"person_type": "legal"}, {"is_supplier": True}, {"is_customer": False}]
)
def test_the_final_consumer_stays_a_natural_person_and_a_customer_only(owner_a, company_a, change):
    with tenant_context(company_a):
        consumer = Contact.objects.get(is_final_consumer=True)
    refused = owner_a.patch(f"{URL}{consumer.pk}/", change, format="json")
    assert refused.status_code == 409 and error_code(refused) == "final_consumer"
    with tenant_context(company_a):
        assert Contact.objects.get(pk=consumer.pk).is_supplier is False
    sorted_ = owner_a.patch(
        f"{URL}{consumer.pk}/", {"fiscal_responsibilities": ["R-99-PN", "R-99-PN"]}, format="json"
    )
    assert sorted_.status_code == 200 and sorted_.json()["fiscal_responsibilities"] == ["R-99-PN"]


@pytest.mark.parametrize(
    ("id_type", "first", "again"),
    [
        ("13", "52123456", "0052123456"),  # a cédula has no leading zeros
        ("22", "123456", "１２３４５６"),  # full-width digits are not other digits
    ],
)
def test_one_person_one_contact_whatever_the_spelling(owner_a, id_type, first, again):
    created = owner_a.post(URL, {"id_type": id_type, "id_number": first, "name": "A"})
    assert created.status_code == 201, created.json()
    second = owner_a.post(URL, {"id_type": id_type, "id_number": again, "name": "B"})
    assert second.status_code in (400, 409), second.json()


@pytest.mark.parametrize(
    ("id_type", "typed"),
    [
        ("31", "0800197268-4"),
        ("31", "800.197.268"),
        ("31", "800-197-268-4"),  # in dash groups
        ("22", "E-123456"),
        ("22", "0123456"),  # a CE keeps its zeros
        ("41", "AB 12-3456"),
    ],
)
def test_the_till_and_the_searches_find_a_contact_by_the_number_as_typed(company_a, id_type, typed):
    """Cleaned as the service cleaned it when it stored it."""
    from contacts.selectors import customer_by_reference, customer_search, supplier_search
    from contacts.services import contact_create

    with tenant_context(company_a):
        created = contact_create(
            role=Role.OWNER, id_type=id_type, id_number=typed, name="X", is_supplier=True
        )
        assert customer_by_reference(typed) == created
        assert list(customer_search(typed)) == [created]
        assert list(supplier_search(typed)) == [created]


def test_the_migration_strips_the_leading_zeros_stored_before_unless_a_twin_exists(
    company_a, company_b
):
    """Rows stored padded before the service stripped them: stripped, except where another
    row of the company would hold the same number (one person twice, for the office)."""
    import importlib
    from types import SimpleNamespace

    from django.db import connection

    migration = importlib.import_module("contacts.migrations.0003_digit_ids_without_leading_zeros")
    rows = {
        company_a: [("13", "0052123456"), ("13", "0079111222"), ("13", "79111222")],
        company_b: [("12", "000123"), ("22", "0099887"), ("13", "0001")],
    }
    for company, numbers in rows.items():
        with tenant_context(company):
            for id_type, number in numbers:
                Contact.objects.create(id_type=id_type, id_number=number, name=number)
    migration.strip_leading_zeros(None, SimpleNamespace(connection=connection))
    stored = {}
    for company in rows:
        with tenant_context(company):
            stored[company] = sorted(
                Contact.objects.filter(is_final_consumer=False).values_list("id_type", "id_number")
            )
    assert stored[company_a] == [("13", "0079111222"), ("13", "52123456"), ("13", "79111222")]
    # A TI stripped; a CE is not digits-only; "0001" would be too short a number.
    assert stored[company_b] == [("12", "123"), ("13", "0001"), ("22", "0099887")]


@pytest.mark.parametrize("typed", ["800197268", "800197268-4", "800.197.268", "800.197.268-4"])
def test_the_api_searches_find_a_contact_by_its_number_as_documents_print_it(
    owner_a, shop_a, typed
):
    """`?search=` on contacts, invoices and bills finds the NIT typed as printed (with its check
    digit, dots); DRF's search compared it in part with the clean stored number and missed it."""
    created = owner_a.post(
        "/api/v1/contacts/",
        {
            "id_type": "31",
            "id_number": "800197268",
            "name": "Distribuidora Andina SAS",
            "person_type": "legal",
            "is_customer": True,
            "is_supplier": True,
        },
        format="json",
    ).json()
    assert created["identification"] == "800197268-4"
    found = owner_a.get("/api/v1/contacts/", {"search": typed}).json()["results"]
    assert [c["id"] for c in found] == [created["id"]], typed
    invoice = owner_a.post(
        "/api/v1/invoices/",
        {
            "pdv": str(shop_a.pdv.id),
            "customer": created["id"],
            "lines": [{"variant": shop_a.v("iva19"), "quantity": "1"}],
        },
        format="json",
    ).json()
    listed = owner_a.get("/api/v1/invoices/", {"search": typed}).json()["results"]
    assert [i["id"] for i in listed] == [invoice["id"]], typed
    bill = owner_a.post(
        "/api/v1/bills/",
        {
            "pdv": str(shop_a.pdv.id),
            "supplier": created["id"],
            "supplier_invoice_number": "FE-1",
            "lines": [{"variant": shop_a.v("iva19"), "quantity": "1", "unit_cost": "1000"}],
        },
        format="json",
    )
    assert bill.status_code == 201, bill.json()
    bills = owner_a.get("/api/v1/bills/", {"search": typed}).json()["results"]
    assert [b["id"] for b in bills] == [bill.json()["id"]], typed
    # A part of a name or number still finds it; another number does not.
    assert owner_a.get("/api/v1/contacts/", {"search": "andina"}).json()["results"]
    assert owner_a.get("/api/v1/contacts/", {"search": "197268"}).json()["results"]
    assert not owner_a.get("/api/v1/contacts/", {"search": "800197269-1"}).json()["results"]
