"""The team pages: an owner or admin invites by e-mail with a role (`invitation_create`), the
e-mail's link opens /accept-invitation (`invitation_accept`: a new account, or an existing one
proving it is theirs) and signs the member in to the company; roles and suspensions changed
(`membership_update`, its owner rules), members removed, invitations revoked; the roles that do
not manage the team get 403; another company's members and invitations stay apart."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import Invitation, Membership, User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.test_auth_api import token_from_mail
from ally360.pages import SESSION_COMPANY
from ally360.roles import Role
from ally360.tests.pages import form_as_rendered, page_client
from conftest import _member

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Clave-segura-2026"


def owner_pages(company, role=Role.OWNER) -> Client:
    return page_client(_member(company, role), company)


def invite(client, email, role, capture) -> str:
    """The invitation's token, read from its e-mail's link."""
    mail.outbox.clear()
    with capture(execute=True):
        response = client.post("/members/", {"email": email, "role": role})
    assert response.status_code == 302, response.context["invite_form"].errors
    link = token_from_mail(mail.outbox[-1])
    assert "/accept-invitation?token=" in mail.outbox[-1].body
    return link


def test_an_owner_invites_a_cashier_who_joins_from_the_e_mail_s_link(
    company_a, django_capture_on_commit_callbacks
):
    owner = owner_pages(company_a)
    assert b'href="/members/"' in owner.get("/").content  # "Equipo" in the menu
    token = invite(owner, "cajera@example.co", "seller", django_capture_on_commit_callbacks)
    listed = owner.get("/members/").content.decode()
    assert "cajera@example.co" in listed and "Invitaciones pendientes" in listed

    visitor = Client()
    page = visitor.get("/accept-invitation", {"token": token})
    assert page.status_code == 200
    assert set(page.context["form"].fields) == {"first_name", "last_name", "password"}
    assert "Tienda A" in page.content.decode()
    weak = visitor.post(
        "/accept-invitation", {"token": token, "first_name": "Ana", "password": "1"}
    )
    assert weak.status_code == 400 and weak.context["form"].errors
    assert not User.objects.filter(email="cajera@example.co").exists()
    joined = visitor.post(
        "/accept-invitation",
        {"token": token, "first_name": "Ana", "last_name": "Ruiz", "password": NEW_PASSWORD},
    )
    assert joined.status_code == 302 and joined["Location"] == "/"
    user = User.objects.get(email="cajera@example.co")
    assert user.email_verified_at is not None and user.check_password(NEW_PASSWORD)
    assert Membership.objects.get(user=user, company=company_a).role == Role.SELLER
    assert visitor.session[SESSION_COMPANY] == str(company_a.pk)
    home = visitor.get("/")
    assert home.status_code == 200 and "Bienvenido a Tienda A" in home.content.decode()
    assert b'href="/pos/"' in home.content and b'href="/members/"' not in home.content
    used = Client().get("/accept-invitation", {"token": token})
    assert used.status_code == 404 and "Aceptada" in used.content.decode()


def test_an_existing_account_proves_it_is_theirs(company_a, django_capture_on_commit_callbacks):
    existing = UserFactory(email="contador@example.co")
    token = invite(
        owner_pages(company_a), existing.email, "accountant", django_capture_on_commit_callbacks
    )
    visitor = Client()
    form = visitor.get("/accept-invitation", {"token": token}).context["form"]
    assert set(form.fields) == {"password"}
    wrong = visitor.post("/accept-invitation", {"token": token, "password": "otra-clave-123"})
    assert wrong.status_code == 400 and wrong.context["form"].non_field_errors()
    assert not Membership.objects.filter(user=existing, company=company_a).exists()
    right = visitor.post("/accept-invitation", {"token": token, "password": DEFAULT_PASSWORD})
    assert right.status_code == 302
    assert Membership.objects.get(user=existing, company=company_a).role == Role.ACCOUNTANT
    # Signed in already as the invited account: nothing more to prove.
    token = invite(
        owner_pages(company_a), "otro@example.co", "viewer", django_capture_on_commit_callbacks
    )
    other = UserFactory(email="otro@example.co")
    signed_in = page_client(other)
    assert (
        set(signed_in.get("/accept-invitation", {"token": token}).context["form"].fields) == set()
    )
    assert signed_in.post("/accept-invitation", {"token": token}).status_code == 302
    assert Membership.objects.get(user=other, company=company_a).role == Role.VIEWER


def test_a_link_with_an_unknown_or_revoked_token_writes_nothing(
    company_a, django_capture_on_commit_callbacks
):
    owner = owner_pages(company_a)
    assert Client().get("/accept-invitation", {"token": "nada"}).status_code == 404
    token = invite(owner, "tarde@example.co", "seller", django_capture_on_commit_callbacks)
    invitation = Invitation.objects.get(email="tarde@example.co")
    assert owner.post(f"/members/invitations/{invitation.pk}/revoke/").status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.REVOKED
    revoked = Client().post(
        "/accept-invitation", {"token": token, "first_name": "X", "password": NEW_PASSWORD}
    )
    assert revoked.status_code == 404 and "Revocada" in revoked.content.decode()
    assert not User.objects.filter(email="tarde@example.co").exists()


def test_an_invitation_past_its_days_is_expired_before_anything_is_typed(
    company_a, django_capture_on_commit_callbacks
):
    owner = owner_pages(company_a)
    token = invite(owner, "vencida@example.co", "seller", django_capture_on_commit_callbacks)
    Invitation.objects.filter(email="vencida@example.co").update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )  # past its days, not yet recorded by the hourly task
    page = Client().get("/accept-invitation", {"token": token})
    assert page.status_code == 404 and "Vencida" in page.content.decode()
    assert list(owner.get("/members/").context["invitations"]) == []


def test_roles_and_suspensions_follow_the_owner_rules(company_a):
    owner = owner_pages(company_a)
    # The company's only owner (the fixture's creator steps down).
    Membership.objects.filter(company=company_a, role=Role.OWNER).exclude(user=owner.user).delete()
    seller = _member(company_a, Role.SELLER)
    membership = Membership.objects.get(user=seller, company=company_a)
    prefix = str(membership.pk)
    shown = form_as_rendered(owner.get("/members/"), f"member-form-{prefix}")
    shown.pop(f"{prefix}-is_active")
    changed = owner.post(f"/members/{membership.pk}/", {**shown, f"{prefix}-role": ["admin"]})
    assert changed.status_code == 302
    membership.refresh_from_db()
    assert (membership.role, membership.is_active) == ("admin", False)
    # An admin cannot make anyone owner; the last owner cannot stop being one.
    admin = owner_pages(company_a, Role.ADMIN)
    promote = admin.post(
        f"/members/{membership.pk}/", {f"{prefix}-role": "owner", f"{prefix}-is_active": "on"}
    )
    assert promote.status_code == 400
    refused = [m for m in promote.context["members"] if m.pk == membership.pk][0]
    assert refused.form.non_field_errors()
    own = Membership.objects.get(user=owner.user, company=company_a)
    last = owner.post(
        f"/members/{own.pk}/", {f"{own.pk}-role": "admin", f"{own.pk}-is_active": "on"}
    )
    assert last.status_code == 400
    own.refresh_from_db()
    membership.refresh_from_db()
    assert own.role == "owner" and membership.role == "admin"
    assert owner.post(f"/members/{membership.pk}/remove/").status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_an_admin_sees_an_owner_s_row_without_forms_it_could_only_be_refused(company_a):
    owner = owner_pages(company_a)
    own = Membership.objects.get(user=owner.user, company=company_a)
    seller = Membership.objects.get(user=_member(company_a, Role.SELLER), company=company_a)
    admin = owner_pages(company_a, Role.ADMIN)
    page = admin.get("/members/").content.decode()
    assert f'data-testid="member-form-{own.pk}"' not in page
    assert f"/members/{own.pk}/remove/" not in page
    assert f'data-testid="member-form-{seller.pk}"' in page
    assert f"/members/{seller.pk}/remove/" in page
    # An owner sees an owner's form (their own too; removing themself is another page's).
    assert f"/members/{own.pk}/remove/" not in owner.get("/members/").content.decode()  # own
    assert f'data-testid="member-form-{own.pk}"' in owner.get("/members/").content.decode()


def test_a_team_page_opened_before_another_manager_changed_a_member_undoes_nothing(company_a):
    """Only what was changed on the page is saved: a role changed on a page opened before
    another manager suspended the member made them active again. A change the service
    refuses comes back on the form, nothing written."""
    owner, admin = owner_pages(company_a), owner_pages(company_a, Role.ADMIN)
    membership = Membership.objects.get(user=_member(company_a, Role.SELLER), company=company_a)
    url, testid, prefix = (
        f"/members/{membership.pk}/",
        f"member-form-{membership.pk}",
        membership.pk,
    )
    opened = form_as_rendered(owner.get("/members/"), testid)
    assert opened[f"{prefix}-is_active"] == ["on"]
    assert opened[f"initial-{prefix}-is_active"] == ["True"]
    suspended = form_as_rendered(admin.get("/members/"), testid)
    suspended.pop(f"{prefix}-is_active")
    assert admin.post(url, suspended).status_code == 302
    assert owner.post(url, {**opened, f"{prefix}-role": [Role.ACCOUNTANT]}).status_code == 302
    membership.refresh_from_db()
    assert (membership.role, membership.is_active) == (Role.ACCOUNTANT, False)
    # An admin's page opened before the member was made owner: its suspension is refused.
    opened = form_as_rendered(admin.get("/members/"), testid)
    made_owner = {**form_as_rendered(owner.get("/members/"), testid), f"{prefix}-role": ["owner"]}
    assert owner.post(url, made_owner).status_code == 302
    refused = admin.post(url, {**opened, f"{prefix}-is_active": ["on"]})
    assert refused.status_code == 400
    assert [m for m in refused.context["members"] if m.pk == prefix][0].form.non_field_errors()
    # Shown on the page, though the row is now an owner's (drawn without its forms for an admin).
    assert "Solo un propietario puede otorgar" in refused.content.decode()
    membership.refresh_from_db()
    assert (membership.role, membership.is_active) == (Role.OWNER, False)


def test_a_member_s_form_without_the_values_it_was_shown_with_saves_what_it_sends(company_a):
    """A page opened before the forms carried the values they showed (or a client posting only
    what it shows): an unticked "active" suspends, instead of reading as unchanged and being
    dropped while the page said it was saved."""
    owner = owner_pages(company_a)
    membership = Membership.objects.get(user=_member(company_a, Role.SELLER), company=company_a)
    answer = owner.post(f"/members/{membership.pk}/", {f"{membership.pk}-role": Role.SELLER})
    assert answer.status_code == 302
    membership.refresh_from_db()
    assert (membership.role, membership.is_active) == (Role.SELLER, False)


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.SELLER, Role.VIEWER])
def test_roles_that_do_not_manage_the_team_get_403_and_no_menu(company_a, role):
    client = owner_pages(company_a, role)
    seller = _member(company_a, Role.SELLER)
    membership = Membership.objects.get(user=seller, company=company_a)
    assert client.get("/members/").status_code == 403
    assert client.post("/members/", {"email": "x@example.co", "role": "owner"}).status_code == 403
    data = {f"{membership.pk}-role": "owner", f"{membership.pk}-is_active": "on"}
    assert client.post(f"/members/{membership.pk}/", data).status_code == 403
    assert client.post(f"/members/{membership.pk}/remove/").status_code == 403
    assert b'href="/members/"' not in client.get("/").content
    membership.refresh_from_db()
    assert membership.role == Role.SELLER and not Invitation.objects.exists()


def test_another_company_s_members_and_invitations_stay_apart(
    company_a, company_b, django_capture_on_commit_callbacks
):
    invite(owner_pages(company_a), "a@example.co", "seller", django_capture_on_commit_callbacks)
    invitation = Invitation.objects.get()
    seller = _member(company_a, Role.SELLER)
    membership = Membership.objects.get(user=seller, company=company_a)
    other = owner_pages(company_b)
    assert "a@example.co" not in other.get("/members/").content.decode()
    data = {f"{membership.pk}-role": "admin", f"{membership.pk}-is_active": "on"}
    assert other.post(f"/members/{membership.pk}/", data).status_code == 404
    assert other.post(f"/members/{membership.pk}/remove/").status_code == 404
    assert other.post(f"/members/invitations/{invitation.pk}/revoke/").status_code == 404
    membership.refresh_from_db()
    invitation.refresh_from_db()
    assert membership.role == Role.SELLER and invitation.status == Invitation.Status.PENDING
