"""The back-office: staff open every registered model's list and change page across companies
(on PostgreSQL, under row-level security), issued documents are read-only, non-staff are sent to
the login page."""

import pytest
from django.contrib import admin
from django.test import Client

from accounts.tests.factories import UserFactory
from ally360.admin import ReadOnlyTenantAdmin
from ally360.models import TenantModel
from ally360.tenancy import cross_tenant, tenant_context
from ally360.tests.test_cross_tenant_probe import build_world

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def admin_url(model, suffix):
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/{suffix}"


def first_row(model):
    manager = model.all_tenants if issubclass(model, TenantModel) else model._default_manager
    with cross_tenant():
        return manager.order_by("pk").first()


def test_staff_see_every_model_of_every_company_and_cannot_edit_issued_documents(
    company_a, company_b, owner_a, owner_b, make_shop, settings
):
    settings.API_RATE_LIMIT = "100000/m"
    build_world(company_a, owner_a, make_shop, "FA")
    build_world(company_b, owner_b, make_shop, "FB")
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    opened, read_only, editable = [], [], []
    for model, model_admin in admin.site._registry.items():
        changelist = staff.get(admin_url(model, ""))
        assert changelist.status_code == 200, (model, changelist.status_code)
        # Filter choices and the search answer 200: a wrong lookup is a 500, or a 302 to ?e=1.
        for spec in changelist.context["cl"].filter_specs:
            for choice in list(spec.choices(changelist.context["cl"]))[1:3]:
                filtered = staff.get(admin_url(model, choice["query_string"]))
                assert filtered.status_code == 200, (model, choice["query_string"])

        if model_admin.search_fields:
            searched = staff.get(admin_url(model, ""), {"q": "a"})
            assert searched.status_code == 200, (model, "search")
        row = first_row(model)

        if row is None:
            continue
        change = staff.get(admin_url(model, f"{row.pk}/change/"))
        assert change.status_code == 200, (model, change.status_code)
        opened.append(model._meta.label)
        if isinstance(model_admin, ReadOnlyTenantAdmin):
            edit = staff.post(admin_url(model, f"{row.pk}/change/"), {})
            assert edit.status_code == 403, (model, edit.status_code)
            delete = staff.post(admin_url(model, f"{row.pk}/delete/"), {"post": "yes"})
            assert delete.status_code == 403, (model, delete.status_code)
            read_only.append(model._meta.label)
        elif model_admin.has_change_permission(change.wsgi_request, row):
            # A page that may be edited saves its own form unchanged (inlines included).
            saved = staff.post(admin_url(model, f"{row.pk}/change/"), posted_form(change))
            assert saved.status_code == 302, (model, saved.status_code)
            editable.append(model._meta.label)
            if issubclass(model, TenantModel):  # deleted through the API, which keeps its rules
                delete = staff.post(admin_url(model, f"{row.pk}/delete/"), {"post": "yes"})
                assert delete.status_code == 403, (model, delete.status_code)
    # Both companies' rows are listed (the admin runs cross-tenant).
    invoices = staff.get("/admin/invoices/invoice/")
    assert str(company_a.name) in invoices.text and str(company_b.name) in invoices.text
    assert {"invoices.Invoice", "bills.Bill", "invoices.CreditNote"} <= set(read_only)
    # Master data carries service rules (taxes, numbering, SKUs, price lists, NITs): the
    # company changes it through the API; the back-office reads it.
    assert {
        "products.Tax",
        "products.Product",
        "products.Variant",
        "products.PriceList",
        "invoices.NumberingRange",
        "contacts.Contact",
        "bills.WithholdingConcept",
    } <= set(read_only)
    assert {"accounts.Company", "pos.PDV", "pos.Seller", "pos.CashRegister"} <= set(editable)
    assert len(opened) >= 25, opened


def test_every_business_model_is_in_the_back_office():
    """Each tenant model has its own admin page or shows inside its parent's; only the internal
    bookkeeping (numbering counters, idempotency records) and the test app's model do not."""
    internal = {"core.DocumentSequence", "core.IdempotencyRecord", "tenancy_test.Note"}
    shown = set(admin.site._registry)
    for model_admin in admin.site._registry.values():
        shown |= {inline.model for inline in model_admin.inlines}
    from django.apps import apps

    missing = [
        model._meta.label
        for model in apps.get_models()
        if issubclass(model, TenantModel) and model not in shown
    ]
    assert sorted(missing) == sorted(internal)


def test_non_staff_are_sent_to_the_login_page(owner_a):

    client = Client()
    client.force_login(owner_a.user)
    response = client.get("/admin/invoices/invoice/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_operator_edits_of_memberships_reach_the_api_at_once(company_a, make_member):
    """The API caches each member's role; a role change, deactivation or removal made in the
    back-office drops it, so the member's next request sees the change."""
    from django.core.cache import cache

    from accounts.models import Membership
    from accounts.selectors import membership_cache_key
    from ally360.roles import Role
    from conftest import client_for, error_code

    member = make_member(company_a, Role.ADMIN)
    api = client_for(member, company_a)
    assert api.get("/api/v1/members/").status_code == 200  # caches "admin"
    membership = Membership.objects.get(user=member, company=company_a)
    assert cache.get(membership_cache_key(member.id, company_a.id))[0] == "admin"
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    change = admin_url(Membership, f"{membership.pk}/change/")
    form = {
        "user": str(member.id),
        "company": str(company_a.id),
        "role": "viewer",
        "is_active": "on",
    }
    assert staff.post(change, form).status_code == 302
    assert api.get("/api/v1/members/").status_code == 403  # a viewer now
    form.pop("is_active")
    assert staff.post(change, form).status_code == 302
    gone = api.get("/api/v1/contacts/")  # an inactive member: the company is not theirs
    assert gone.status_code == 404 and error_code(gone) == "company_not_found"
    form["is_active"] = "on"
    assert staff.post(change, form).status_code == 302
    assert api.get("/api/v1/contacts/").status_code == 200  # active again, at once
    delete = staff.post(admin_url(Membership, f"{membership.pk}/delete/"), {"post": "yes"})
    assert delete.status_code == 302
    assert api.get("/api/v1/contacts/").status_code == 404


def posted_form(response, **changes) -> dict:
    """The POST data of an admin change page as rendered (main form and inline formsets),
    with `changes` applied: what a staff member submits after editing those fields."""
    data = {}

    def add(form):
        for name, field in form.fields.items():
            value = form[name].value()
            key = form.add_prefix(name)
            if isinstance(value, bool) or getattr(field.widget, "input_type", "") == "checkbox":
                if value:
                    data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            elif value is not None:
                data[key] = str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def staff_client() -> Client:
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    return staff


def test_the_back_office_keeps_a_company_with_an_owner(company_a):
    from accounts.models import Company, Membership

    staff = staff_client()
    owner = Membership.objects.get(company=company_a, role="owner")
    change = admin_url(Membership, f"{owner.pk}/change/")
    demoted = staff.post(change, posted_form(staff.get(change), role="viewer"))
    assert demoted.status_code == 200 and demoted.context["adminform"].form.non_field_errors()
    suspended = staff.post(change, posted_form(staff.get(change), is_active=None))
    assert suspended.status_code == 200
    deleted = staff.post(admin_url(Membership, f"{owner.pk}/delete/"), {"post": "yes"})
    assert deleted.status_code == 403
    bulk = staff.post(
        admin_url(Membership, ""),
        {"action": "delete_selected", "_selected_action": [str(owner.pk)], "post": "yes"},
    )
    assert bulk.status_code in (302, 403)  # refused either way; the membership stays (below)

    company_page = admin_url(Company, f"{company_a.pk}/change/")
    page = staff.get(company_page)
    inline = page.context["inline_admin_formsets"][0].formset
    index = next(i for i, f in enumerate(inline.forms) if f.instance.pk == owner.pk)
    through_company = staff.post(
        company_page, posted_form(page, **{f"{inline.prefix}-{index}-role": "viewer"})
    )
    assert through_company.status_code == 200  # the formset's error, nothing saved
    owner.refresh_from_db()
    assert (owner.role, owner.is_active) == ("owner", True)
    # A second owner whose account is switched off cannot act: the first one stays.
    Membership.objects.create(company=company_a, user=UserFactory(is_active=False), role="owner")
    assert staff.post(change, posted_form(staff.get(change), role="viewer")).status_code == 200
    # With a second owner the first one may step down.
    Membership.objects.create(company=company_a, user=UserFactory(), role="owner")
    assert staff.post(change, posted_form(staff.get(change), role="viewer")).status_code == 302


def test_a_membership_moved_to_another_user_on_the_company_page_leaves_the_old_one_out(
    company_a, make_member
):
    """The company page's inline drops the cached role of the user the row had, as the
    membership's own page does (the old user kept the company's API until the cache expired)."""
    from accounts.models import Company, Membership
    from ally360.roles import Role
    from conftest import client_for

    member = make_member(company_a, Role.ADMIN)
    api = client_for(member, company_a)
    assert api.get("/api/v1/contacts/").status_code == 200  # caches "admin"
    membership = Membership.objects.get(user=member, company=company_a)
    other = UserFactory()
    staff = staff_client()
    company_page = admin_url(Company, f"{company_a.pk}/change/")
    page = staff.get(company_page)
    inline = page.context["inline_admin_formsets"][0].formset
    index = next(i for i, f in enumerate(inline.forms) if f.instance.pk == membership.pk)
    moved = posted_form(page, **{f"{inline.prefix}-{index}-user": str(other.id)})
    assert staff.post(company_page, moved).status_code == 302
    membership.refresh_from_db()
    assert membership.user_id == other.id
    assert api.get("/api/v1/contacts/").status_code == 404
    assert client_for(other, company_a).get("/api/v1/contacts/").status_code == 200


def test_the_back_office_edits_no_field_that_carries_a_service_rule(
    company_a, company_b, owner_b, make_shop
):
    from contacts.models import Contact
    from pos.models import PDV, CashRegister, Seller

    shop = make_shop(company_a)
    staff = staff_client()
    with cross_tenant():
        main = PDV.all_tenants.get(tenant=company_a, is_main=True)
        consumer = Contact.all_tenants.get(tenant=company_a, is_final_consumer=True)
        seller = Seller.all_tenants.create(tenant=company_a, name="Vendedor")
    for model, row, field in (
        (PDV, main, "is_main"),
        (CashRegister, shop.register, "pdv"),
        (CashRegister, shop.register, "is_active"),
        (Contact, consumer, "is_active"),
    ):
        page = staff.get(admin_url(model, f"{row.pk}/change/"))
        assert field not in page.context["adminform"].form.fields, (model, field)
    change = admin_url(Seller, f"{seller.pk}/change/")
    outsider = staff.post(change, posted_form(staff.get(change), user=str(owner_b.user.id)))
    assert outsider.status_code == 200 and "user" in outsider.context["adminform"].form.errors
    with cross_tenant():
        assert Seller.all_tenants.get(pk=seller.pk).user_id is None


def test_the_back_office_stores_e_mails_lowercased():
    from accounts.models import User

    staff = staff_client()
    added = staff.post(
        admin_url(User, "add/"),
        {
            "email": "Mixed.Case@Tienda.co",
            "password1": "Clave-segura-2026",
            "password2": "Clave-segura-2026",
            "usable_password": "true",
        },
    )
    assert added.status_code == 302, added.context["adminform"].form.errors
    assert User.objects.filter(email="mixed.case@tienda.co").exists()


def test_the_back_office_checks_a_companys_unique_codes_and_its_nit(company_a, make_shop):
    """A PDV's code is unique in its company and a NIT's check digit is verified: the form
    says so, instead of an error page from the database or a wrong digit on every invoice."""
    from accounts.models import Company
    from pos.models import PDV

    make_shop(company_a)
    with tenant_context(company_a):
        main = PDV.objects.get(is_main=True)
        other = PDV.objects.create(name="Bodega", code="BOD")
    staff = staff_client()
    change = admin_url(PDV, f"{other.pk}/change/")
    taken = staff.post(change, posted_form(staff.get(change), code=main.code))
    assert taken.status_code == 200 and taken.context["adminform"].form.errors
    with cross_tenant():
        assert PDV.all_tenants.get(pk=other.pk).code == "BOD"

    change = admin_url(Company, f"{company_a.pk}/change/")
    assert company_a.nit_dv == "4"  # 800197268-4
    wrong = staff.post(change, posted_form(staff.get(change), nit_dv="7"))
    assert wrong.status_code == 200 and "nit_dv" in wrong.context["adminform"].form.errors
    company_a.refresh_from_db()
    assert company_a.nit_dv == "4"
    dashed = staff.post(change, posted_form(staff.get(change), nit="800.197.268", nit_dv="4"))
    assert dashed.status_code == 302
    company_a.refresh_from_db()
    assert (company_a.nit, company_a.nit_dv) == ("800197268", "4")


def test_the_back_office_reads_and_deletes_invitations_but_does_not_edit_them(company_a, owner_a):
    from accounts.models import Invitation

    sent = owner_a.post(
        "/api/v1/invitations/", {"email": "nuevo@tienda.co", "role": "viewer"}, format="json"
    )
    assert sent.status_code == 201, sent.json()
    invitation = Invitation.objects.get(email="nuevo@tienda.co")
    staff = staff_client()
    change = admin_url(Invitation, f"{invitation.pk}/change/")
    assert staff.get(change).status_code == 200
    assert staff.post(change, {"role": "owner"}).status_code == 403
    invitation.refresh_from_db()
    assert invitation.role == "viewer"
    assert (
        staff.post(admin_url(Invitation, f"{invitation.pk}/delete/"), {"post": "yes"}).status_code
        == 302
    )
    assert not Invitation.objects.filter(pk=invitation.pk).exists()


def test_the_back_office_refuses_a_pdv_code_differing_only_in_case(company_a, make_shop):
    from pos.models import PDV

    make_shop(company_a)
    with tenant_context(company_a):
        main = PDV.objects.get(is_main=True)
        other = PDV.objects.create(name="Bodega", code="BOD")
    staff = staff_client()
    change = admin_url(PDV, f"{other.pk}/change/")
    taken = staff.post(change, posted_form(staff.get(change), code=main.code.lower()))
    assert taken.status_code == 200 and taken.context["adminform"].form.errors


def test_the_back_office_refuses_a_register_name_differing_only_in_case(company_a, make_shop):
    from pos.models import CashRegister

    shop = make_shop(company_a)
    with tenant_context(company_a):
        other = CashRegister.objects.create(pdv=shop.register.pdv, name="Caja 2")
    staff = staff_client()
    change = admin_url(CashRegister, f"{other.pk}/change/")
    taken = staff.post(change, posted_form(staff.get(change), name=shop.register.name.upper()))
    assert taken.status_code == 200 and taken.context["adminform"].form.errors
    with cross_tenant():
        assert CashRegister.all_tenants.get(pk=other.pk).name == "Caja 2"
    renamed = staff.post(change, posted_form(staff.get(change), name="Caja 3"))
    assert renamed.status_code == 302


def test_the_back_office_stores_a_pdv_code_in_upper_case_as_the_api_does(
    company_a, make_shop, tmp_path, capsys
):
    """A code typed in lower case is stored as the API stores codes, so the product import
    (`stock:<code>`) and the API find it."""
    from django.core.management import call_command

    from pos.models import PDV

    make_shop(company_a)
    with tenant_context(company_a):
        other = PDV.objects.create(name="Bodega", code="BOD")
    staff = staff_client()
    change = admin_url(PDV, f"{other.pk}/change/")
    saved = staff.post(change, posted_form(staff.get(change), code="bod2"))
    assert saved.status_code == 302
    with cross_tenant():
        code = PDV.all_tenants.get(pk=other.pk).code
    path = tmp_path / "p.csv"
    path.write_text("name,sku,price,stock:bod2\nGaseosa,GAS-9,1000,5\n", encoding="utf-8")
    call_command("import_products", str(path), company=str(company_a.pk))
    assert code == "BOD2"


@pytest.mark.redis
def test_the_back_office_sign_in_counts_in_the_sign_in_limits(db):
    """`/admin/login/` opens every company's data: it shares the buckets of `/login/` and
    `auth/login` (thirty guesses went through after the page had said 429)."""
    from accounts.tests.factories import DEFAULT_PASSWORD

    staff = UserFactory(email="ops@ally360.co", is_staff=True, is_superuser=True)
    client = Client()
    tries = [
        client.post("/login/", {"email": staff.email, "password": f"x-{n}"}).status_code
        for n in range(6)
    ]
    assert tries[-1] == 429
    guessed = client.post(
        "/admin/login/?next=/admin/",
        {"username": staff.email, "password": DEFAULT_PASSWORD, "next": "/admin/"},
    )
    assert guessed.status_code == 429 and 1 <= int(guessed["Retry-After"]) <= 60
    assert "_auth_user_id" not in client.session
    # Another e-mail, from another address: the admin's own guesses count too.
    other = UserFactory(email="ops2@ally360.co", is_staff=True)
    admin_client = Client(REMOTE_ADDR="10.1.2.3")
    statuses = [
        admin_client.post(
            "/admin/login/", {"username": other.email, "password": f"guess-{n}"}
        ).status_code
        for n in range(6)
    ]
    assert statuses == [200] * 5 + [429]


def test_staff_who_read_e_mails_do_not_read_one_time_links(api, db):
    """A pending reset e-mail's body is its link: staff allowed to read the outbox could reset
    a superuser's password with it."""
    from django.contrib.auth.models import Permission

    from accounts.models import OutboundEmail

    root = UserFactory(email="root@ally360.co", is_staff=True, is_superuser=True)
    support = UserFactory(email="support@ally360.co", is_staff=True)
    support.user_permissions.add(Permission.objects.get(codename="view_outboundemail"))
    assert (
        api.post("/api/v1/auth/password-reset", {"email": root.email}, format="json").status_code
        == 200
    )
    from accounts.tests.test_auth_api import token_from_mail

    reset = OutboundEmail.objects.get(kind="password_reset", to=root.email)
    assert reset.status == "pending"  # its mail server is down, say: retried for hours
    token = token_from_mail(reset)
    other = OutboundEmail.objects.create(
        kind="invoice", to="x@cliente.co", subject="S", body="Su factura FV1"
    )
    staff = Client()
    staff.force_login(support)
    page = staff.get(admin_url(OutboundEmail, f"{reset.pk}/change/"))
    assert page.status_code == 200
    assert token not in page.content.decode() and "enlace de un solo uso" in page.content.decode()
    shown = staff.get(admin_url(OutboundEmail, f"{other.pk}/change/")).content.decode()
    assert "Su factura FV1" in shown
