"""Authentication flows end to end over HTTP."""

import re
import time
from datetime import datetime, timedelta

import pytest
from django.core import mail
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, UntypedToken

from accounts.models import Company, Membership, User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tokens import context_token_for, tokens_for_user
from ally360.roles import Role

pytestmark = pytest.mark.django_db


def error_code(response):
    return response.json()["error"]["code"]


def login(api, email, password=DEFAULT_PASSWORD):
    return api.post("/api/v1/auth/login", {"email": email, "password": password}, format="json")


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def token_from_mail(message, param="token"):
    match = re.search(rf"[?&]{param}=([^&\s]+)", message.body)
    assert match, message.body
    from urllib.parse import unquote

    return unquote(match.group(1))


def test_register_verify_login_select_company_me(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/auth/register",
            {
                "email": "Ana@Tienda.co",
                "password": "Cafe-con-leche-77",
                "first_name": "Ana",
                "company": {"name": "Tienda Ana", "nit": "900123456"},
            },
            format="json",
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["user"]["email"] == "ana@tienda.co"
    assert body["user"]["email_verified"] is False
    assert body["company"]["nit_dv"] == "8"  # computed by python-stdnum
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ana@tienda.co"]
    assert "http://frontend.test/verify-email?token=" in mail.outbox[0].body

    unverified = login(api, "ana@tienda.co", "Cafe-con-leche-77")
    assert unverified.status_code == 403
    assert error_code(unverified) == "email_not_verified"

    verified = api.post(
        "/api/v1/auth/verify-email", {"token": token_from_mail(mail.outbox[0])}, format="json"
    )
    assert verified.status_code == 200 and verified.json()["email_verified"] is True

    logged_in = login(api, "ana@tienda.co", "Cafe-con-leche-77")
    assert logged_in.status_code == 200
    tokens = logged_in.json()
    assert [c["role"] for c in tokens["companies"]] == ["owner"]
    company_id = tokens["companies"][0]["id"]

    selected = api.post(
        "/api/v1/auth/select-company",
        {"company_id": company_id},
        format="json",
        **bearer(tokens["access"]),
    )
    assert selected.status_code == 200
    assert selected.json()["token_type"] == "context"
    assert selected.json()["role"] == "owner"

    me = api.get("/api/v1/auth/me", **bearer(selected.json()["token"]))
    assert me.status_code == 200
    assert me.json()["current_company"]["id"] == company_id
    assert me.json()["current_role"] == "owner"
    assert me.json()["user"]["email"] == "ana@tienda.co"


def test_register_twice_with_the_same_email_is_a_conflict(api):
    payload = {"email": "dup@example.co", "password": "Cafe-con-leche-77"}
    assert api.post("/api/v1/auth/register", payload, format="json").status_code == 201
    again = api.post("/api/v1/auth/register", {**payload, "email": "DUP@example.co"}, format="json")
    assert again.status_code == 409
    assert error_code(again) == "email_taken"
    assert User.objects.filter(email="dup@example.co").count() == 1


def test_register_with_a_wrong_nit_check_digit_names_the_expected_digit(api):
    response = api.post(
        "/api/v1/auth/register",
        {
            "email": "nit@example.co",
            "password": "Cafe-con-leche-77",
            "company": {"name": "X", "nit": "800197268-5"},
        },
        format="json",
    )
    assert response.status_code == 400
    assert "el dígito esperado es 4" in response.json()["error"]["message"]
    assert not User.objects.filter(email="nit@example.co").exists()
    assert not Company.objects.exists()


def test_register_rejects_a_weak_password(api):
    response = api.post(
        "/api/v1/auth/register", {"email": "w@example.co", "password": "123"}, format="json"
    )
    assert response.status_code == 400
    assert "password" in response.json()["error"]["fields"]
    assert not User.objects.filter(email="w@example.co").exists()


def test_expired_or_forged_verification_token_is_refused(api, settings):
    from accounts.services import email_verification_token

    user = UserFactory(email_verified_at=None)
    forged = email_verification_token(user)[:-2] + "xx"
    response = api.post("/api/v1/auth/verify-email", {"token": forged}, format="json")
    assert response.status_code == 400 and error_code(response) == "token_invalid"

    settings.EMAIL_VERIFICATION_MAX_AGE = -1
    response = api.post(
        "/api/v1/auth/verify-email", {"token": email_verification_token(user)}, format="json"
    )
    assert response.status_code == 400 and error_code(response) == "token_expired"
    user.refresh_from_db()
    assert user.email_verified_at is None


def test_wrong_password_is_a_generic_error(api):
    user = UserFactory()
    response = login(api, user.email, "not-the-password")
    assert response.status_code == 400
    assert error_code(response) == "invalid_credentials"
    unknown = login(api, "nobody@example.co", "whatever-123")
    assert unknown.json() == response.json()


def test_refresh_rotates_and_blacklists_the_old_token(api):
    user = UserFactory()
    tokens = login(api, user.email).json()
    rotated = api.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert rotated.status_code == 200
    assert rotated.json()["refresh"] != tokens["refresh"]
    reused = api.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert reused.status_code == 401, reused.json()
    assert error_code(reused) == "token_not_valid"
    fresh = api.post("/api/v1/auth/refresh", {"refresh": rotated.json()["refresh"]}, format="json")
    assert fresh.status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_refresh_token_sent_twice_at_once_rotates_once():
    import threading

    from django.db import connection
    from rest_framework.test import APIClient

    user = UserFactory()
    refresh = login(APIClient(), user.email).json()["refresh"]
    together = threading.Barrier(2)
    statuses = []

    def rotate():
        try:
            together.wait(10)
            response = APIClient().post("/api/v1/auth/refresh", {"refresh": refresh}, format="json")
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=rotate) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [200, 401]


def test_logout_blacklists_the_refresh_token(api):

    user = UserFactory()
    tokens = login(api, user.email).json()
    assert (
        api.post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}, format="json").status_code
        == 204
    )
    after = api.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert after.status_code == 401


def test_a_refresh_token_is_not_an_access_token(api):
    user = UserFactory()
    refresh = login(api, user.email).json()["refresh"]
    response = api.get("/api/v1/auth/me", **bearer(refresh))
    assert response.status_code == 401
    assert error_code(response) == "token_not_valid"


def test_expired_forged_and_unsigned_tokens_are_refused(api):
    import base64
    import json

    user = UserFactory()
    expired = AccessToken.for_user(user)
    expired.set_exp(lifetime=-timedelta(seconds=1))
    assert api.get("/api/v1/auth/me", **bearer(str(expired))).status_code == 401

    header, payload, signature = str(AccessToken.for_user(user)).split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"
    assert api.get("/api/v1/auth/me", **bearer(forged)).status_code == 401

    def b64(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    assert api.get("/api/v1/auth/me", **bearer(unsigned)).status_code == 401
    assert api.get("/api/v1/auth/me", HTTP_AUTHORIZATION="Bearer").status_code == 401


def test_a_token_verified_before_is_still_checked_for_expiry_and_tampering(api, monkeypatch):
    """The process keeps the tokens it verified (by their exact text): a kept token is refused
    once it expires, and a copy with another signature or claims is verified, and refused."""
    from datetime import UTC

    token = tokens_for_user(UserFactory())["access"]
    assert api.get("/api/v1/auth/me", **bearer(token)).status_code == 200
    header, payload, signature = token.split(".")
    for forged in (f"{header}.{payload}.{signature[::-1]}", _tampered(token, user_id="x")):
        assert api.get("/api/v1/auth/me", **bearer(forged)).status_code == 401
    assert api.get("/api/v1/auth/me", **bearer(token)).status_code == 200

    later = datetime.now(UTC) + timedelta(hours=1)
    monkeypatch.setattr("accounts.authentication.aware_utcnow", lambda: later)
    refused = api.get("/api/v1/auth/me", **bearer(token))
    assert refused.status_code == 401 and error_code(refused) == "token_not_valid"


def _tampered(token: str, **claims) -> str:
    """The token with some claims changed and its original signature kept."""
    import base64
    import json

    header, payload, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    encoded = base64.urlsafe_b64encode(json.dumps({**decoded, **claims}).encode()).rstrip(b"=")
    return f"{header}.{encoded.decode()}.{signature}"


def _attacks(token, *, other_company, other_user) -> dict:
    """Ways to forge a company-scoped token from a genuine one (`token`, a simplejwt Token)."""
    import jwt

    claims, wrong_key = token.payload, "a-key-that-is-not-this-servers-key-0123456789"
    expired = {**claims, "exp": int((datetime.now() - timedelta(minutes=1)).timestamp())}
    return {
        "expired, re-signed with the wrong key": jwt.encode(expired, wrong_key, "HS256"),
        "expired": _tampered(str(token), exp=expired["exp"]),
        "signed with another key": jwt.encode(claims, wrong_key, "HS256"),
        "unsigned (alg=none)": jwt.encode(claims, None, "none"),
        "company changed": _tampered(str(token), tenant_id=str(other_company)),
        "user changed": _tampered(str(token), user_id=str(other_user)),
        "type changed": _tampered(
            str(token), token_type="access" if claims["token_type"] == "context" else "context"
        ),
        # The type picks the verifying class before any signature is checked: odd values too.
        "type a list, unsigned": jwt.encode({**claims, "token_type": ["access"]}, None, "none"),
        "type a dict, other key": jwt.encode({**claims, "token_type": {}}, wrong_key, "HS256"),
        "type unknown, unsigned": jwt.encode({**claims, "token_type": "refresh"}, None, "none"),
        "expired, genuinely signed": str(expired_genuine(token)),
    }


def expired_genuine(token):
    """The same token, signed by this server, whose lifetime has ended."""
    copy = type(token)(str(token))
    copy.set_exp(lifetime=-timedelta(seconds=1))
    return copy


@pytest.mark.parametrize("kind", ["context token", "access token with X-Company-ID"])
def test_forged_company_scoped_tokens_are_refused(api, company_a, company_b, kind):
    """Every forgery of a token that acts for a company answers 401 on a company endpoint, while
    the genuine token reads it (the control)."""
    user = UserFactory()
    other = UserFactory()
    for member in (user, other):
        Membership.objects.create(user=member, company=company_a, role=Role.SELLER)
    Membership.objects.create(user=other, company=company_b, role=Role.OWNER)
    if kind == "context token":
        token, headers = context_token_for(user, company_a.id, Role.SELLER), {}
    else:
        token = AccessToken(tokens_for_user(user)["access"])
        headers = {"HTTP_X_COMPANY_ID": str(company_a.id)}
    genuine = api.get("/api/v1/contacts/", **headers, **bearer(str(token)))
    assert genuine.status_code == 200
    for attack, forged in _attacks(token, other_company=company_b.id, other_user=other.id).items():
        response = api.get("/api/v1/contacts/", **headers, **bearer(forged))
        assert response.status_code == 401, attack
        assert error_code(response) == "token_not_valid", attack


def test_select_company_of_another_company_is_not_found(api, company_a, company_b):
    user = UserFactory()
    Membership.objects.create(user=user, company=company_a, role=Role.SELLER)
    access = login(api, user.email).json()["access"]
    response = api.post(
        "/api/v1/auth/select-company",
        {"company_id": str(company_b.id)},
        format="json",
        **bearer(access),
    )
    assert response.status_code == 404
    assert error_code(response) == "company_not_found"


def test_access_token_with_company_header(api, company_a, company_b):
    user = UserFactory()
    Membership.objects.create(user=user, company=company_a, role=Role.VIEWER)
    access = login(api, user.email).json()["access"]
    mine = api.get(
        "/api/v1/companies/current/", HTTP_X_COMPANY_ID=str(company_a.id), **bearer(access)
    )
    assert mine.status_code == 200 and mine.json()["id"] == str(company_a.id)
    other = api.get(
        "/api/v1/companies/current/", HTTP_X_COMPANY_ID=str(company_b.id), **bearer(access)
    )
    assert other.status_code == 404
    garbage = api.get("/api/v1/companies/current/", HTTP_X_COMPANY_ID="nope", **bearer(access))
    assert garbage.status_code == 404
    none = api.get("/api/v1/companies/current/", **bearer(access))
    assert none.status_code == 403 and error_code(none) == "company_required"


def test_context_token_of_a_with_company_header_of_b_is_refused(api, company_a, company_b):
    user = UserFactory()
    Membership.objects.create(user=user, company=company_a, role=Role.OWNER)
    Membership.objects.create(user=user, company=company_b, role=Role.OWNER)
    token = context_token_for(user, company_a.id, Role.OWNER)
    response = api.get(
        "/api/v1/companies/current/", HTTP_X_COMPANY_ID=str(company_b.id), **bearer(token)
    )
    assert response.status_code == 403
    assert error_code(response) == "company_mismatch"


def test_a_removed_member_loses_access_at_once(company_a, owner_a, client_as):
    seller = client_as(company_a, Role.SELLER)
    assert seller.get("/api/v1/companies/current/").status_code == 200  # role now cached
    membership = Membership.objects.get(user=seller.user, company=company_a)
    assert owner_a.delete(f"/api/v1/members/{membership.id}/").status_code == 204
    response = seller.get("/api/v1/companies/current/")
    assert response.status_code == 404
    assert error_code(response) == "company_not_found"


def test_a_role_read_before_a_removal_commits_is_never_used_after_it(
    company_a, owner_a, client_as, monkeypatch, django_capture_on_commit_callbacks
):
    """The race the generations close: a request reads the old role from the database, the
    removal commits and invalidates, then that request caches the old role; the next request
    must still be refused."""
    from accounts import selectors
    from accounts.services import membership_remove

    seller = client_as(company_a, Role.SELLER)
    real_cache = selectors.cache

    class RemovalBeforeTheWrite:
        fired = False

        def get_many(self, keys):
            return real_cache.get_many(keys)

        def set(self, key, value, timeout):
            if not self.fired and value[0] == Role.SELLER:
                self.fired = True
                membership = Membership.objects.get(user=seller.user, company=company_a)
                with django_capture_on_commit_callbacks(execute=True):
                    membership_remove(
                        actor=owner_a.user, actor_role=Role.OWNER, membership=membership
                    )
            return real_cache.set(key, value, timeout)

    real_cache.delete(selectors.membership_cache_key(seller.user.id, company_a.id))
    racing = RemovalBeforeTheWrite()
    monkeypatch.setattr(selectors, "cache", racing)

    assert seller.get("/api/v1/companies/current/").status_code == 200  # was in flight
    assert racing.fired
    monkeypatch.setattr(selectors, "cache", real_cache)
    assert not Membership.objects.filter(user=seller.user, company=company_a).exists()
    refused = seller.get("/api/v1/companies/current/")
    assert refused.status_code == 404 and error_code(refused) == "company_not_found"


def test_a_deactivated_member_loses_access_and_a_role_change_applies_at_once(
    company_a, owner_a, client_as
):
    member = client_as(company_a, Role.ADMIN)
    assert (
        member.patch("/api/v1/companies/current/", {"city": "Cali"}, format="json").status_code
        == 200
    )
    membership = Membership.objects.get(user=member.user, company=company_a)
    demoted = owner_a.patch(f"/api/v1/members/{membership.id}/", {"role": "viewer"}, format="json")
    assert demoted.status_code == 200 and demoted.json()["role"] == "viewer"
    assert (
        member.patch("/api/v1/companies/current/", {"city": "Pasto"}, format="json").status_code
        == 403
    )
    owner_a.patch(f"/api/v1/members/{membership.id}/", {"is_active": False}, format="json")
    assert member.get("/api/v1/companies/current/").status_code == 404


def test_a_deactivated_user_is_refused_even_with_a_valid_token(company_a, client_as):
    client = client_as(company_a, Role.SELLER)
    User.objects.filter(pk=client.user.pk).update(is_active=False)
    assert client.get("/api/v1/auth/me").status_code == 401


def test_an_unknown_or_inactive_user_is_refused_before_the_company_is_looked_at(
    api, company_a, company_b, client_as
):
    """The membership is checked before the user's row is read (with the tenant's setting):
    still, a deactivated or deleted user hears 401, with a membership or without one."""
    client = client_as(company_a, Role.SELLER)
    assert client.get("/api/v1/companies/current/").status_code == 200
    User.objects.filter(pk=client.user.pk).update(is_active=False)
    refused = client.get("/api/v1/companies/current/")
    assert refused.status_code == 401 and error_code(refused) == "user_inactive"
    Membership.objects.filter(user=client.user).update(is_active=False)
    from accounts.services import membership_cache_invalidate

    membership_cache_invalidate(user_id=client.user.pk, company_id=company_a.pk)
    refused = client.get("/api/v1/companies/current/")
    assert refused.status_code == 401 and error_code(refused) == "user_inactive"
    # Nor does a bad company header answer first: 401, not its 404 or 403.
    for header in ("not-a-uuid", str(company_b.pk)):
        refused = client.get("/api/v1/companies/current/", HTTP_X_COMPANY_ID=header)
        assert refused.status_code == 401 and error_code(refused) == "user_inactive", header
    # A revoked token (the password changed) hears 401 whatever header it sends.
    User.objects.filter(pk=client.user.pk).update(is_active=True)
    from accounts.tokens import tokens_for_user

    plain = tokens_for_user(client.user)["access"]
    User.objects.filter(pk=client.user.pk).update(token_version=client.user.token_version + 1)
    refused = api.get("/api/v1/companies/current/", HTTP_X_COMPANY_ID="not-a-uuid", **bearer(plain))
    assert refused.status_code == 401 and error_code(refused) == "token_not_valid"


@pytest.mark.postgres
@pytest.mark.parametrize("method", ["get", "patch"])
def test_the_users_row_and_the_tenants_setting_are_one_statement(company_a, client_as, method):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_as(company_a, Role.OWNER)
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)("/api/v1/companies/current/", {}, format="json")
    assert response.status_code == 200, response.json()
    statements = [q["sql"] for q in queries if "accounts_user" in q["sql"]]
    first = statements[0]
    assert "set_config" in first and "app.tenant_id" in first
    assert ("plan_cache_mode" in first) == (method == "patch")  # writes allow generic plans
    assert not any(
        "set_config" in q["sql"] and "accounts_user" not in q["sql"] for q in queries
    )  # the setting is not sent again


def test_password_reset_flow_without_user_enumeration(api, django_capture_on_commit_callbacks):
    user = UserFactory(email="reset@example.co")
    tokens = login(api, user.email).json()
    with django_capture_on_commit_callbacks(execute=True):
        known = api.post("/api/v1/auth/password-reset", {"email": user.email}, format="json")
        unknown = api.post(
            "/api/v1/auth/password-reset", {"email": "ghost@example.co"}, format="json"
        )
    assert known.status_code == unknown.status_code == 200
    assert known.json() == unknown.json()
    assert len(mail.outbox) == 1
    uid, token = token_from_mail(mail.outbox[0], "uid"), token_from_mail(mail.outbox[0])

    confirm = {"uid": uid, "token": token, "new_password": "Nueva-clave-2027"}
    assert (
        api.post("/api/v1/auth/password-reset/confirm", confirm, format="json").status_code == 200
    )
    again = api.post("/api/v1/auth/password-reset/confirm", confirm, format="json")
    assert again.status_code == 400 and error_code(again) == "token_invalid"
    assert login(api, user.email).status_code == 400
    assert login(api, user.email, "Nueva-clave-2027").status_code == 200
    # Sessions opened with the old password are over.
    old = api.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert old.status_code == 401


def test_change_password_closes_other_sessions(api):
    user = UserFactory()
    tokens = login(api, user.email).json()
    wrong = api.post(
        "/api/v1/auth/change-password",
        {"current_password": "nope", "new_password": "Otra-clave-2027"},
        format="json",
        **bearer(tokens["access"]),
    )
    assert wrong.status_code == 400
    changed = api.post(
        "/api/v1/auth/change-password",
        {"current_password": DEFAULT_PASSWORD, "new_password": "Otra-clave-2027"},
        format="json",
        **bearer(tokens["access"]),
    )
    assert changed.status_code == 200
    assert (
        api.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json").status_code
        == 401
    )
    assert login(api, user.email, "Otra-clave-2027").status_code == 200


def test_a_password_change_ends_every_token_issued_before_it(api, company_a):
    """A stolen access or context token dies with the password, and selecting a company again
    never makes a token outlive the one that asked for it."""
    user = UserFactory()
    Membership.objects.create(user=user, company=company_a, role=Role.SELLER)
    access = login(api, user.email).json()["access"]

    def select(token):
        return api.post(
            "/api/v1/auth/select-company",
            {"company_id": str(company_a.id)},
            format="json",
            **bearer(token),
        )

    context = select(access).json()
    again = select(context["token"]).json()
    assert UntypedToken(again["token"])["exp"] <= UntypedToken(context["token"])["exp"]
    assert UntypedToken(context["token"])["exp"] <= UntypedToken(access)["exp"]
    assert 0 < again["expires_in"] <= 15 * 60
    assert api.get("/api/v1/contacts/", **bearer(again["token"])).status_code == 200
    changed = api.post(
        "/api/v1/auth/change-password",
        {"current_password": DEFAULT_PASSWORD, "new_password": "Otra-clave-2027"},
        format="json",
        **bearer(access),
    )
    assert changed.status_code == 200
    for token in (access, context["token"], again["token"]):
        refused = api.get("/api/v1/contacts/", **bearer(token))
        assert refused.status_code == 401 and error_code(refused) == "token_not_valid"
        assert select(token).status_code == 401
    fresh = login(api, user.email, "Otra-clave-2027").json()["access"]
    assert select(fresh).status_code == 200


def test_the_login_that_upgrades_a_password_hash_gives_tokens_that_work(api, company_a):
    """A new Django raises PBKDF2's iterations and the next login re-hashes the password; that is
    no new password: the login's tokens carry the version the database keeps (they were
    refused, 401, until a second login)."""
    from django.contrib.auth.hashers import make_password
    from django.test import override_settings

    user = UserFactory()
    Membership.objects.create(user=user, company=company_a, role=Role.SELLER)
    hashers = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    ]
    with override_settings(PASSWORD_HASHERS=hashers):
        old_hash = make_password(DEFAULT_PASSWORD, hasher="pbkdf2_sha1")
        User.objects.filter(pk=user.pk).update(password=old_hash)
        login = api.post(
            "/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
        )
    assert login.status_code == 200, login.json()
    stored = User.objects.get(pk=user.pk)
    assert stored.password.startswith("md5$") and stored.token_version == user.token_version
    assert api.get("/api/v1/auth/me", **bearer(login.json()["access"])).status_code == 200
    refreshed = api.post(
        "/api/v1/auth/refresh", {"refresh": login.json()["refresh"]}, format="json"
    )
    assert refreshed.status_code == 200, refreshed.json()


def test_a_password_set_by_the_back_office_ends_the_sessions_too(api):
    """The admin's password form and `manage.py changepassword` call set_password and save."""
    user = UserFactory()
    tokens = login(api, user.email).json()
    assert api.get("/api/v1/auth/me", **bearer(tokens["access"])).status_code == 200
    user.set_password("Puesta-por-soporte-1")
    user.save()
    refused = api.get("/api/v1/auth/me", **bearer(tokens["access"]))
    assert refused.status_code == 401 and error_code(refused) == "token_not_valid"
    renewed = api.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert renewed.status_code == 401 and error_code(renewed) == "token_not_valid"


@pytest.mark.redis
def test_change_password_is_rate_limited_per_user(api):
    user = UserFactory()
    access = login(api, user.email).json()["access"]
    statuses = [
        api.post(
            "/api/v1/auth/change-password",
            {"current_password": f"guess-{n}", "new_password": "Otra-clave-2027"},
            format="json",
            **bearer(access),
        ).status_code
        for n in range(6)
    ]
    assert statuses == [400] * 5 + [429]


def test_a_login_ends_reset_links_sent_before_it_and_sent_links_leave_the_outbox(
    api, django_capture_on_commit_callbacks
):
    from accounts.models import OutboundEmail

    user = UserFactory(email="olvido@example.co")
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/v1/auth/password-reset", {"email": user.email}, format="json")
    uid, token = token_from_mail(mail.outbox[0], "uid"), token_from_mail(mail.outbox[0])
    stored = OutboundEmail.objects.get(kind="password_reset", to=user.email)
    assert stored.status == "sent" and token not in stored.body  # delivered, then removed
    assert login(api, user.email).status_code == 200  # remembered it after all
    user.refresh_from_db()
    assert user.last_login is not None
    confirm = {"uid": uid, "token": token, "new_password": "Nueva-clave-2027"}
    late = api.post("/api/v1/auth/password-reset/confirm", confirm, format="json")
    assert late.status_code == 400 and error_code(late) == "token_invalid"


def test_me_update(company_a, client_as):
    client = client_as(company_a, Role.SELLER)
    response = client.patch("/api/v1/auth/me", {"phone": "3001234567"}, format="json")
    assert response.status_code == 200 and response.json()["user"]["phone"] == "3001234567"


def test_a_profile_update_from_a_stale_row_keeps_a_password_changed_meanwhile():
    """A request's user is read when it authenticates; a password changed by another request
    before this one writes must survive it (an empty PATCH auth/me wrote every column back:
    the old password and token version with them)."""
    from accounts.models import User
    from accounts.services import user_profile_update

    user = UserFactory()
    stale = User.objects.get(pk=user.pk)
    fresh = User.objects.get(pk=user.pk)
    fresh.set_password("Otra-clave-segura-991")
    fresh.save()
    user_profile_update(user=stale, data={})
    user_profile_update(user=stale, data={"first_name": "Ana"})
    stored = User.objects.get(pk=user.pk)
    assert stored.check_password("Otra-clave-segura-991")
    assert stored.token_version == fresh.token_version > 0
    assert stored.first_name == "Ana"


@pytest.mark.redis
def test_login_is_rate_limited_per_email(api):
    user = UserFactory()
    statuses = [login(api, user.email, "wrong-password").status_code for _ in range(5)]
    assert statuses == [400] * 5
    limited = login(api, user.email)
    assert limited.status_code == 429
    assert error_code(limited) == "rate_limited"
    assert 1 <= int(limited["Retry-After"]) <= 60


@pytest.mark.redis
def test_login_is_rate_limited_per_ip(api):
    statuses = [login(api, f"user{i}@nowhere.co", "wrong").status_code for i in range(11)]
    assert statuses[:10] == [400] * 10
    assert statuses[10] == 429


@pytest.mark.redis
def test_register_and_password_reset_are_rate_limited_per_ip(api):
    statuses = [
        api.post("/api/v1/auth/password-reset", {"email": f"x{i}@e.co"}, format="json").status_code
        for i in range(6)
    ]
    assert statuses == [200] * 5 + [429]
    statuses = [
        api.post(
            "/api/v1/auth/register",
            {"email": f"r{i}@e.co", "password": "Cafe-con-leche-77"},
            format="json",
        ).status_code
        for i in range(6)
    ]
    assert statuses == [201] * 5 + [429]
    assert User.objects.filter(email__startswith="r").count() == 5
    limited = api.post(
        "/api/v1/auth/register",
        {"email": "r9@e.co", "password": "Cafe-con-leche-77"},
        format="json",
    )
    assert limited.status_code == 429 and 1 <= int(limited["Retry-After"]) <= 3600


@pytest.mark.redis
def test_api_rate_limit_per_company(company_a, company_b, client_as, settings):
    from django_ratelimit.core import _get_window

    settings.API_RATE_LIMIT = "3/m"
    client_a = client_as(company_a, Role.VIEWER)
    client_b = client_as(company_b, Role.VIEWER)
    # Each key counts in its own minute-long windows: four requests across the end of one
    # would count in two. Start well inside a window.
    left = _get_window(f"tenant:{company_a.pk}", 60) - time.time()
    if left < 10:
        time.sleep(left + 0.5)
    statuses = [client_a.get("/api/v1/companies/current/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client_a.get("/api/v1/companies/current/")
    assert error_code(limited) == "rate_limited" and 1 <= int(limited["Retry-After"]) <= 60
    # Another company's bucket is separate.
    assert client_b.get("/api/v1/companies/current/").status_code == 200


def test_token_and_invitation_lifetimes(api, company_a, owner_a):
    """Access and context tokens live 15 minutes (a context token no longer than the token that
    asked for it), refresh tokens 7 days, invitations 7 days."""
    from django.utils import timezone

    user = UserFactory()
    Membership.objects.create(user=user, company=company_a, role=Role.SELLER)
    tokens = login(api, user.email).json()
    context = api.post(
        "/api/v1/auth/select-company",
        {"company_id": str(company_a.id)},
        format="json",
        **bearer(tokens["access"]),
    ).json()["token"]

    def lifetime(token):
        return timedelta(seconds=token["exp"] - token["iat"])

    assert lifetime(AccessToken(tokens["access"])) == timedelta(minutes=15)
    context = UntypedToken(context)
    assert context["exp"] == min(
        context["iat"] + 15 * 60, AccessToken(tokens["access"])["exp"]
    )  # the seconds between login and selecting are the access token's, already spent
    assert lifetime(RefreshToken(tokens["refresh"])) == timedelta(days=7)
    invited = owner_a.post(
        "/api/v1/invitations/", {"email": "nueva@tienda.co", "role": "viewer"}, format="json"
    )
    assert invited.status_code == 201, invited.json()
    expires_at = datetime.fromisoformat(invited.json()["expires_at"])
    assert abs(expires_at - timezone.now() - timedelta(days=7)) < timedelta(minutes=1)


def test_refresh_token_objects_are_real_tokens(api):

    user = UserFactory()
    refresh = login(api, user.email).json()["refresh"]
    assert RefreshToken(refresh)["user_id"] == str(user.id)


@pytest.mark.redis
def test_the_login_ip_limit_keys_on_the_address_our_proxy_wrote(api, settings):
    """Behind a proxy that appends the client address to X-Forwarded-For, the client controls
    the first entry: the limit must not key on it."""
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_FORWARDED_FOR"
    statuses = []
    for i in range(12):
        response = api.post(
            "/api/v1/auth/login",
            {"email": f"nobody{i}@example.co", "password": "wrong-password-1"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"10.9.9.{i}, 203.0.113.7",  # forged, then the proxy's entry
        )
        statuses.append(response.status_code)
    assert 429 in statuses, statuses


@pytest.mark.redis
def test_the_per_ip_limits_count_one_ipv6_network_as_one_client(api):
    """One IPv6 host holds a whole /64: thirty addresses of it are one client (each try from a
    new address escaped the per-IP limit, so one host could spray passwords over accounts)."""
    statuses = [
        api.post(
            "/api/v1/auth/login",
            {"email": f"victim{n}@example.co", "password": "Verano2026!"},
            format="json",
            REMOTE_ADDR=f"2001:db8:1:2::{n + 1:x}",
        ).status_code
        for n in range(11)
    ]
    assert statuses == [400] * 10 + [429]
    # Another /64 is another client.
    other = login(api, "victim99@example.co", "wrong")
    assert other.status_code == 400


def test_client_ip_masks_ipv6_and_keeps_ipv4():
    from django.test import RequestFactory

    from accounts.limits import client_ip

    def ip(address):
        return client_ip(RequestFactory().get("/", REMOTE_ADDR=address))

    assert ip("203.0.113.7") == "203.0.113.7"
    assert ip("2001:db8:1:2:aaaa::1") == ip("2001:db8:1:2::ffff") == "2001:db8:1:2::/64"
    assert ip("::ffff:203.0.113.7") == "203.0.113.7"  # an IPv4 client of a dual-stack socket
    assert ip("203.0.113.7:443") == "203.0.113.7"  # what a proxy may write, with the port
    assert ip("[2001:db8:1:2::1]:443") == "2001:db8:1:2::/64"
    assert ip("not-an-address") == "not-an-address"


def test_the_beat_forgets_refresh_tokens_past_their_expiry(api, monkeypatch):
    """Every login and refresh writes a token row (and a rotation a blacklist row): those past
    their expiry are deleted daily, the others kept — a live one still refreshes."""
    from django.conf import settings
    from django.utils import timezone
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

    from accounts.tasks import purge_expired_tokens

    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "accounts.tasks.purge_expired_tokens" in schedule
    user = UserFactory()
    old = login(api, user.email).json()["refresh"]
    assert api.post("/api/v1/auth/refresh", {"refresh": old}, format="json").status_code == 200
    live = login(api, user.email).json()["refresh"]
    assert BlacklistedToken.objects.count() == 1
    OutstandingToken.objects.exclude(jti=RefreshToken(live)["jti"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    monkeypatch.setattr("accounts.services.TOKEN_PURGE_BATCH", 1)  # a batch per token
    assert purge_expired_tokens.delay().get() == 2  # the rotated one and its successor
    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == [
        RefreshToken(live)["jti"]
    ]
    assert BlacklistedToken.objects.count() == 0
    assert api.post("/api/v1/auth/refresh", {"refresh": live}, format="json").status_code == 200
