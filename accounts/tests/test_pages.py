"""Sign-in pages and the tenancy of every page: login (the API's rules and limits), logout, the
company chooser, membership re-checked on each request, roles, language."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Membership
from accounts.services import company_deactivate, membership_remove
from accounts.tests.factories import DEFAULT_PASSWORD
from ally360.pages import SESSION_COMPANY
from ally360.roles import Role
from ally360.tests.pages import page_client
from conftest import _member

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/pos/",
    "/pos/close/",
    "/products/",
    "/invoices/",
    "/invoices/00000000-0000-0000-0000-000000000001/",
    "/pos/receipts/00000000-0000-0000-0000-000000000001/",
    "/pos/shifts/00000000-0000-0000-0000-000000000001/",
]


def sign_in(client, email, password=DEFAULT_PASSWORD, **extra):
    return client.post("/login/", {"email": email, "password": password, **extra})


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_visitors_go_to_the_sign_in_page(db, url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("url", PAGES)
def test_signed_in_without_a_company_goes_to_the_chooser(company_a, url):
    user = _member(company_a, Role.OWNER)
    response = page_client(user).get(url)
    assert response.status_code == 302 and response["Location"].startswith("/company/")


def test_sign_in_with_one_company_goes_straight_in(company_a):
    user = _member(company_a, Role.SELLER)
    client = Client()
    page = client.get("/login/")
    assert page.status_code == 200 and 'lang="es-co"' in page.content.decode()
    response = sign_in(client, user.email.upper(), next="/invoices/")
    assert response.status_code == 302 and response["Location"] == "/invoices/"
    assert client.session[SESSION_COMPANY] == str(company_a.id)
    home = client.get("/")
    assert home.status_code == 200 and "Tienda A" in home.content.decode()
    assert "Vendedor" in home.content.decode()  # the role, in Spanish


def test_sign_in_never_redirects_off_site(company_a):
    user = _member(company_a, Role.SELLER)
    response = sign_in(Client(), user.email, next="https://evil.example/")
    assert response["Location"] == "/"


def test_sign_in_with_several_companies_asks_which(company_a, company_b):
    user = _member(company_a, Role.SELLER)
    Membership.objects.create(user=user, company=company_b, role=Role.VIEWER)
    client = Client()
    response = sign_in(client, user.email)
    assert response.status_code == 302 and response["Location"] == "/company/"
    chooser = client.get("/company/")
    assert [m.company for m in chooser.context["memberships"]] == [company_a, company_b]
    assert client.get("/").status_code == 302  # nothing chosen yet
    chosen = client.post("/company/", {"company": str(company_b.id), "next": "/invoices/"})
    assert chosen["Location"] == "/invoices/"
    home = client.get("/")
    assert home.status_code == 200 and home.context["page"].role == Role.VIEWER


def test_the_chooser_refuses_a_company_of_someone_else(company_a, company_b):
    user = _member(company_a, Role.OWNER)
    client = page_client(user)
    response = client.post("/company/", {"company": str(company_b.id)})
    assert response.status_code == 302 and response["Location"] == "/company/"
    assert SESSION_COMPANY not in client.session
    assert client.get("/").status_code == 302


def test_wrong_password_and_unverified_e_mail_are_form_errors(company_a):
    user = _member(company_a, Role.OWNER)
    wrong = sign_in(Client(), user.email, "no-es-la-clave")
    assert wrong.status_code == 400
    assert "El correo o la contraseña son incorrectos." in wrong.content.decode()
    unverified = _member(company_a, Role.OWNER, email_verified_at=None)
    response = sign_in(Client(), unverified.email)
    assert response.status_code == 400 and response.context["form"].non_field_errors()
    assert "_auth_user_id" not in response.wsgi_request.session


def test_sign_in_brute_force_is_limited_as_the_api(company_a, api):
    """5 tries a minute per e-mail, counted with the API's: three by the API and two by the page
    use them up; the sixth try is refused by both, even with the right password."""
    user = _member(company_a, Role.OWNER)
    for _ in range(3):
        assert (
            api.post("/api/v1/auth/login", {"email": user.email, "password": "x"}).status_code
            == 400
        )
    client = Client()
    for _ in range(2):
        assert sign_in(client, user.email, "x").status_code == 400
    limited = sign_in(client, user.email)  # the right password, too late
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    assert "_auth_user_id" not in client.session
    refused = api.post("/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert refused.status_code == 429


def test_sign_in_is_limited_per_ip_as_the_api(db):
    client = Client()
    statuses = [sign_in(client, f"nadie{n}@example.co", "x").status_code for n in range(11)]
    assert statuses == [400] * 10 + [429]


def test_logout_is_a_post_and_ends_the_session(company_a):
    client = page_client(_member(company_a, Role.OWNER), company_a)
    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/")["Location"] == "/login/"
    assert client.get("/")["Location"].startswith("/login/")


def test_a_removed_member_loses_the_pages_at_once(company_a):
    owner = _member(company_a, Role.OWNER)
    seller = _member(company_a, Role.SELLER)
    client = page_client(seller, company_a)
    assert client.get("/invoices/").status_code == 200  # the role is cached now
    membership = Membership.objects.get(user=seller, company=company_a)
    membership_remove(actor=owner, actor_role=Role.OWNER, membership=membership)
    response = client.get("/invoices/")
    assert response.status_code == 302 and response["Location"].startswith("/company/")
    assert SESSION_COMPANY not in client.session


def test_a_switched_off_user_loses_the_pages_at_once(company_a):
    user = _member(company_a, Role.OWNER)
    client = page_client(user, company_a)
    assert client.get("/").status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert client.get("/")["Location"].startswith("/login/")


def test_a_password_change_ends_the_page_sessions(company_a):
    user = _member(company_a, Role.OWNER)
    client = page_client(user, company_a)
    user.set_password("Otra-clave-muy-larga-1")
    user.save()
    assert client.get("/")["Location"].startswith("/login/")


def test_a_demoted_member_gets_403_on_the_next_request(company_a):
    seller = _member(company_a, Role.SELLER)
    client = page_client(seller, company_a)
    assert client.get("/pos/").status_code == 200
    from accounts.services import membership_update

    owner = _member(company_a, Role.OWNER)
    membership_update(
        actor=owner,
        actor_role=Role.OWNER,
        membership=Membership.objects.get(user=seller),
        role=Role.VIEWER,
    )
    assert client.get("/pos/").status_code == 403


def test_pages_are_spanish_by_default_and_english_on_request(company_a):
    client = page_client(_member(company_a, Role.OWNER), company_a)
    spanish = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert 'lang="es-co"' in spanish.content.decode()
    assert "Punto de venta" in spanish.content.decode()  # the menu
    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert switched.status_code == 302
    english = client.get("/")
    assert 'lang="en"' in english.content.decode() and "Point of sale" in english.content.decode()


def test_changing_language_on_a_refused_form_goes_back_to_the_page_of_the_form(shop_a):
    """A refusal is shown at the form's POST-only address (`/pos/sale/`): the language form
    sent the browser back there, a 405 and a blank page. It goes back to the form's page."""
    from ally360.tests.pages import form_as_rendered
    from invoices.tests.test_pages import open_shift, sale_data

    client = page_client(_member(shop_a.company, Role.SELLER), shop_a.company)
    open_shift(client, shop_a)
    refused = client.post(
        "/pos/sale/",
        sale_data([("NO-EXISTE", "1")]),
        HTTP_REFERER="http://testserver/pos/",
    )
    assert refused.status_code == 400
    language = form_as_rendered(refused, "language-form")
    assert language["next"] == ["http://testserver/pos/"]
    switched = client.post("/i18n/setlang/", {**language, "language": "en"})
    assert switched.status_code == 302 and switched["Location"] == "http://testserver/pos/"
    assert client.get(switched["Location"]).status_code == 200
    # A page read with GET comes back to itself.
    assert form_as_rendered(client.get("/invoices/?q=x"), "language-form")["next"] == [
        "/invoices/?q=x"
    ]


def test_a_deactivated_company_loses_the_pages_at_once(company_a):
    seller = _member(company_a, Role.SELLER)
    client = page_client(seller, company_a)
    assert client.get("/invoices/").status_code == 200  # role cached
    company_deactivate(company=company_a)
    response = client.get("/invoices/")
    assert response.status_code == 302 and response["Location"].startswith("/company/")
    assert SESSION_COMPANY not in client.session


@pytest.mark.parametrize(
    "target", ["//evil.com/", "/\\evil.com", "https://evil.com", "\\\\evil.com", "/%5Cevil.com"]
)
def test_next_never_leads_off_site(company_a, target):
    from accounts.tests.factories import DEFAULT_PASSWORD

    owner = _member(company_a, Role.OWNER)
    from django.test import Client

    client = Client()
    response = client.post(
        "/login/", {"email": owner.email, "password": DEFAULT_PASSWORD, "next": target}
    )
    assert response.status_code == 302, response.content[:300]
    location = response["Location"]
    assert location == "/" or (
        location.startswith("/") and not location.startswith(("//", "/\\"))
    ), location
