"""The pages the account e-mails link to (`FRONTEND_URL` is this server by default): verifying
an address (`email_verify`, by a button: a mail scanner's GET verifies nothing) and choosing a
new password (`password_reset_request`, `password_reset_confirm`: the same answer for an
unknown e-mail, the link's checks, the password rules, every session ended, the API's limits)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.test_auth_api import token_from_mail
from ally360.tests.pages import page_client
from conftest import _member

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Pan-de-bono-2026"


def test_a_new_owner_verifies_the_address_from_the_e_mail(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        registered = api.post(
            "/api/v1/auth/register",
            {
                "email": "ana@tienda.co",
                "password": "Cafe-con-leche-77",
                "first_name": "Ana",
                "company": {"name": "Tienda Ana", "nit": "900123456"},
            },
            format="json",
        )
    assert registered.status_code == 201
    assert "/verify-email?token=" in mail.outbox[-1].body
    token = token_from_mail(mail.outbox[-1])
    visitor = Client()
    shown = visitor.get("/verify-email", {"token": token})
    assert shown.status_code == 200 and "Verificar mi correo" in shown.content.decode()
    assert (
        User.objects.get(email="ana@tienda.co").email_verified_at is None
    )  # a GET verifies nothing
    forged = visitor.post("/verify-email", {"token": token + "x"})
    assert forged.status_code == 400 and "no es válido" in forged.content.decode()
    assert User.objects.get(email="ana@tienda.co").email_verified_at is None
    done = visitor.post("/verify-email", {"token": token})
    assert done.status_code == 200 and "verificado" in done.content.decode()
    assert User.objects.get(email="ana@tienda.co").email_verified_at is not None
    signed_in = visitor.post("/login/", {"email": "ana@tienda.co", "password": "Cafe-con-leche-77"})
    assert signed_in.status_code == 302


def test_a_forgotten_password_is_reset_from_the_e_mail_and_old_sessions_end(
    company_a, django_capture_on_commit_callbacks
):
    user = _member(company_a, "seller")
    old_session = page_client(user, company_a)
    assert old_session.get("/").status_code == 200
    visitor = Client()
    assert "¿Olvidó su contraseña?" in visitor.get("/login/").content.decode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sent = visitor.post("/password-reset/", {"email": user.email.upper()})
    assert sent.status_code == 200 and "va en camino" in sent.content.decode()
    message = mail.outbox[-1]
    assert "/reset-password?uid=" in message.body
    link = {"uid": token_from_mail(message, "uid"), "token": token_from_mail(message)}
    assert visitor.get("/reset-password", link).status_code == 200
    differ = visitor.post(
        "/reset-password", {**link, "new_password": NEW_PASSWORD, "new_password_again": "otra"}
    )
    assert differ.status_code == 400 and differ.context["form"].errors["new_password_again"]
    weak = visitor.post(
        "/reset-password", {**link, "new_password": "123", "new_password_again": "123"}
    )
    assert weak.status_code == 400 and weak.context["form"].errors
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    done = visitor.post(
        "/reset-password",
        {**link, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
    )
    assert done.status_code == 200 and "Su contraseña fue cambiada" in done.content.decode()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert old_session.get("/")["Location"].startswith("/login/")  # its session ended
    used = visitor.post(
        "/reset-password",
        {**link, "new_password": "Otra-clave-2027", "new_password_again": "Otra-clave-2027"},
    )
    assert used.status_code == 400 and used.context["form"].non_field_errors()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_an_unknown_e_mail_gets_the_same_answer_and_no_mail(db, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sent = Client().post("/password-reset/", {"email": "nadie@example.co"})
    assert sent.status_code == 200 and "va en camino" in sent.content.decode()
    assert mail.outbox == []


def test_reset_requests_share_the_api_s_limit_per_client_address(db):
    UserFactory(email="limite@example.co")
    client = Client(REMOTE_ADDR="10.9.8.7")
    answers = [
        client.post("/password-reset/", {"email": "limite@example.co"}).status_code
        for _ in range(6)
    ]
    assert answers == [200] * 5 + [429]
    # A form sent with nothing in it, over the limit: the same 429 on the form (it was a 500).
    for url in ("/password-reset/", "/reset-password"):
        empty = client.post(url, {})
        assert empty.status_code in (400, 429) and "form" in empty.context, url
    assert client.post("/password-reset/", {}).status_code == 429
