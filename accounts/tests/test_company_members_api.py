"""companies/, members/ and invitations/: roles, owner rules, cross-tenant isolation."""

import pytest
from django.core import mail

from accounts.models import Company, Invitation, Membership
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from ally360.roles import Role
from conftest import error_code

pytestmark = pytest.mark.django_db

ALL_ROLES = [Role.OWNER, Role.ADMIN, Role.ACCOUNTANT, Role.SELLER, Role.VIEWER]


def code(response):
    return response.json()["error"]["code"]


# --- companies -----------------------------------------------------------------------------


def test_creating_a_company_makes_the_creator_its_owner(company_a, client_as):
    client = client_as(company_a, Role.VIEWER)
    response = client.post(
        "/api/v1/companies/", {"name": "Sucursal", "nit": "901451481-2"}, format="json"
    )
    assert response.status_code == 201
    company = Company.objects.get(pk=response.json()["id"])
    assert (company.nit, company.nit_dv) == ("901451481", "2")
    assert Membership.objects.get(company=company, user=client.user).role == Role.OWNER
    listed = client.get("/api/v1/companies/").json()
    assert {c["name"]: c["role"] for c in listed} == {"Tienda A": "viewer", "Sucursal": "owner"}


@pytest.mark.parametrize(
    ("role", "read", "write", "delete"),
    [
        (Role.OWNER, 200, 200, 204),
        (Role.ADMIN, 200, 200, 403),
        (Role.ACCOUNTANT, 200, 403, 403),
        (Role.SELLER, 200, 403, 403),
        (Role.VIEWER, 200, 403, 403),
    ],
)
def test_current_company_roles(company_a, client_as, role, read, write, delete):
    client = client_as(company_a, role)
    assert client.get("/api/v1/companies/current/").status_code == read
    response = client.patch("/api/v1/companies/current/", {"city": "Medellín"}, format="json")
    assert response.status_code == write
    company_a.refresh_from_db()
    assert (company_a.city == "Medellín") is (write == 200)
    assert client.delete("/api/v1/companies/current/").status_code == delete
    company_a.refresh_from_db()
    assert company_a.is_active is (delete != 204)


def test_a_deactivated_company_locks_everyone_out(company_a, owner_a, client_as):
    seller = client_as(company_a, Role.SELLER)
    assert owner_a.delete("/api/v1/companies/current/").status_code == 204
    assert seller.get("/api/v1/companies/current/").status_code == 404
    assert owner_a.get("/api/v1/companies/current/").status_code == 404


def test_company_update_validates_the_nit(owner_a, company_a):
    response = owner_a.patch(
        "/api/v1/companies/current/", {"nit": "800191045", "nit_dv": "2"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["expected_check_digit"] == "1"
    for digits in ("²²²²²", "١٢٣٤٥٦٧٨٩"):  # digits to Python, not to the DIAN
        unicode = owner_a.patch("/api/v1/companies/current/", {"nit": digits}, format="json")
        assert unicode.status_code == 400
    company_a.refresh_from_db()
    assert company_a.nit == "800197268"


# --- members -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"), [(r, 200 if r in (Role.OWNER, Role.ADMIN) else 403) for r in ALL_ROLES]
)
def test_member_list_roles(company_a, client_as, role, status):
    response = client_as(company_a, role).get("/api/v1/members/")
    assert response.status_code == status
    if status == 200:
        assert response.json()["count"] == 2  # the creator and this member


def test_member_list_shows_only_the_current_company(company_a, company_b, owner_a):
    emails = {m["user"]["email"] for m in owner_a.get("/api/v1/members/").json()["results"]}
    assert emails == set(
        Membership.objects.filter(company=company_a).values_list("user__email", flat=True)
    )
    assert not emails & set(
        Membership.objects.filter(company=company_b).values_list("user__email", flat=True)
    )


def test_another_companys_member_is_not_found(company_b, owner_a):
    other = Membership.objects.filter(company=company_b).first()
    assert owner_a.get(f"/api/v1/members/{other.id}/").status_code == 404
    assert (
        owner_a.patch(f"/api/v1/members/{other.id}/", {"role": "viewer"}, format="json").status_code
        == 404
    )
    assert owner_a.delete(f"/api/v1/members/{other.id}/").status_code == 404
    other.refresh_from_db()
    assert other.role == Role.OWNER and other.is_active


def test_an_admin_cannot_touch_an_owner_or_make_one(company_a, client_as):
    admin = client_as(company_a, Role.ADMIN)
    owner = Membership.objects.get(company=company_a, role=Role.OWNER)
    seller = Membership.objects.create(user=UserFactory(), company=company_a, role=Role.SELLER)
    for response in [
        admin.patch(f"/api/v1/members/{owner.id}/", {"role": "admin"}, format="json"),
        admin.patch(f"/api/v1/members/{owner.id}/", {"is_active": False}, format="json"),
        admin.delete(f"/api/v1/members/{owner.id}/"),
        admin.patch(f"/api/v1/members/{seller.id}/", {"role": "owner"}, format="json"),
    ]:
        assert response.status_code == 403
        assert code(response) == "owner_required"
    owner.refresh_from_db()
    seller.refresh_from_db()
    assert (owner.role, owner.is_active, seller.role) == (Role.OWNER, True, Role.SELLER)
    ok = admin.patch(f"/api/v1/members/{seller.id}/", {"role": "accountant"}, format="json")
    assert ok.status_code == 200 and ok.json()["role"] == "accountant"


def test_the_last_owner_cannot_leave_but_ownership_can_be_transferred(company_a):
    from conftest import client_for

    owner_membership = Membership.objects.get(company=company_a, role=Role.OWNER)
    owner = client_for(owner_membership.user, company_a)
    for response in [
        owner.delete(f"/api/v1/members/{owner_membership.id}/"),
        owner.patch(f"/api/v1/members/{owner_membership.id}/", {"role": "admin"}, format="json"),
        owner.patch(f"/api/v1/members/{owner_membership.id}/", {"is_active": False}, format="json"),
    ]:
        assert response.status_code == 409
        assert code(response) == "last_owner"
    successor = Membership.objects.create(user=UserFactory(), company=company_a, role=Role.ADMIN)
    assert (
        owner.patch(
            f"/api/v1/members/{successor.id}/", {"role": "owner"}, format="json"
        ).status_code
        == 200
    )
    assert owner.delete(f"/api/v1/members/{owner_membership.id}/").status_code == 204
    assert list(Membership.objects.filter(company=company_a).values_list("role", flat=True)) == [
        "owner"
    ]


# --- invitations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"), [(r, 201 if r in (Role.OWNER, Role.ADMIN) else 403) for r in ALL_ROLES]
)
def test_invitation_create_roles(company_a, client_as, role, status):
    response = client_as(company_a, role).post(
        "/api/v1/invitations/", {"email": "new@example.co", "role": "seller"}, format="json"
    )
    assert response.status_code == status
    assert Invitation.objects.filter(company=company_a).count() == (1 if status == 201 else 0)


def test_an_admin_cannot_invite_an_owner(company_a, client_as):
    response = client_as(company_a, Role.ADMIN).post(
        "/api/v1/invitations/", {"email": "boss@example.co", "role": "owner"}, format="json"
    )
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_an_admin_cannot_bring_back_a_suspended_owner_with_another_role(
    company_a, owner_a, client_as, make_member
):
    """Accepting an invitation reactivates the membership with the invited role: for a
    suspended owner only an owner may do that, as only an owner changes an owner."""
    co_owner = make_member(company_a, Role.OWNER)
    Membership.objects.filter(user=co_owner, company=company_a).update(is_active=False)
    body = {"email": co_owner.email, "role": "viewer"}
    refused = client_as(company_a, Role.ADMIN).post("/api/v1/invitations/", body, format="json")
    assert refused.status_code == 403 and error_code(refused) == "owner_required"
    assert not Invitation.objects.exists()
    assert owner_a.post("/api/v1/invitations/", body, format="json").status_code == 201


def test_duplicate_pending_invitation_and_existing_member_are_conflicts(company_a, owner_a):

    payload = {"email": "twice@example.co", "role": "viewer"}
    assert owner_a.post("/api/v1/invitations/", payload, format="json").status_code == 201
    again = owner_a.post(
        "/api/v1/invitations/", {**payload, "email": "TWICE@example.co"}, format="json"
    )
    assert again.status_code == 409 and code(again) == "invitation_pending"
    member = owner_a.post(
        "/api/v1/invitations/", {"email": owner_a.user.email, "role": "viewer"}, format="json"
    )
    assert member.status_code == 409 and code(member) == "already_member"


def _invite(client, email, capture, role="seller"):
    from accounts.tests.test_auth_api import token_from_mail

    mail.outbox.clear()
    with capture(execute=True):
        response = client.post(
            "/api/v1/invitations/", {"email": email, "role": role}, format="json"
        )
    assert response.status_code == 201
    return response.json()["id"], token_from_mail(mail.outbox[-1])


@pytest.fixture
def inviting_owner(owner_a, django_capture_on_commit_callbacks):
    def invite(email, role="seller"):
        return _invite(owner_a, email, django_capture_on_commit_callbacks, role)

    return invite


def test_an_account_created_while_an_invitation_is_accepted_is_a_conflict_not_a_500(
    api, company_a, inviting_owner, monkeypatch
):
    from accounts import services

    _, token = inviting_owner("doble@example.co")
    real = services._validate_password

    def meanwhile(password, user):  # another invitation or a registration gets there first
        real(password, user)
        UserFactory(email="doble@example.co")

    monkeypatch.setattr(services, "_validate_password", meanwhile)
    response = api.post(
        "/api/v1/invitations/accept",
        {"token": token, "password": "Clave-segura-2026"},
        format="json",
    )
    assert response.status_code == 409 and error_code(response) == "account_exists"
    assert not Membership.objects.filter(user__email="doble@example.co").exists()


def test_an_invitation_goes_with_its_senders_right_to_invite(
    api, company_a, owner_a, client_as, django_capture_on_commit_callbacks
):
    admin = client_as(company_a, Role.ADMIN)
    _, token = _invite(admin, "amigo@example.co", django_capture_on_commit_callbacks, "admin")
    membership = Membership.objects.get(user=admin.user, company=company_a)
    assert owner_a.delete(f"/api/v1/members/{membership.id}/").status_code == 204
    refused = api.post(
        "/api/v1/invitations/accept", {"token": token, "password": "Clave-segura-2026"}
    )
    assert refused.status_code == 409 and code(refused) == "inviter_not_allowed"
    assert not Membership.objects.filter(user__email="amigo@example.co").exists()
    # Nor from a sender whose account the operator switched off (the membership remains).
    other_admin = client_as(company_a, Role.ADMIN)
    _, switched_off = _invite(other_admin, "vecino@example.co", django_capture_on_commit_callbacks)
    type(other_admin.user).objects.filter(pk=other_admin.user.pk).update(is_active=False)
    refused = api.post(
        "/api/v1/invitations/accept", {"token": switched_off, "password": "Clave-segura-2026"}
    )
    assert refused.status_code == 409 and code(refused) == "inviter_not_allowed"
    # An invitation of a sender who still may invite goes through.
    _, kept = _invite(owner_a, "amiga@example.co", django_capture_on_commit_callbacks, "seller")
    accepted = api.post(
        "/api/v1/invitations/accept", {"token": kept, "password": "Clave-segura-2026"}
    )
    assert accepted.status_code == 200, accepted.json()


def test_invitation_accept_by_a_new_user(api, company_a, inviting_owner):

    _, token = inviting_owner("nuevo@example.co", "accountant")
    missing_password = api.post("/api/v1/invitations/accept", {"token": token}, format="json")
    assert missing_password.status_code == 400
    response = api.post(
        "/api/v1/invitations/accept",
        {"token": token, "password": "Clave-segura-2026", "first_name": "Nuevo"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["role"] == "accountant"
    membership = Membership.objects.get(user__email="nuevo@example.co", company=company_a)
    assert membership.role == Role.ACCOUNTANT and membership.user.is_email_verified
    login = api.post(
        "/api/v1/auth/login",
        {"email": "nuevo@example.co", "password": "Clave-segura-2026"},
        format="json",
    )
    assert login.status_code == 200
    reused = api.post(
        "/api/v1/invitations/accept", {"token": token, "password": "x"}, format="json"
    )
    assert reused.status_code == 409


def test_invitation_accept_by_an_existing_user_needs_proof(
    api, company_a, company_b, inviting_owner
):
    from conftest import client_for

    existing = UserFactory(email="existe@example.co")
    Membership.objects.create(user=existing, company=company_b, role=Role.OWNER)
    _, token = inviting_owner("existe@example.co", "viewer")

    anonymous = api.post("/api/v1/invitations/accept", {"token": token}, format="json")
    assert anonymous.status_code == 403 and code(anonymous) == "account_exists"
    wrong = api.post(
        "/api/v1/invitations/accept", {"token": token, "password": "wrong-pass"}, format="json"
    )
    assert wrong.status_code == 403
    impostor = client_for(UserFactory())
    assert (
        impostor.post("/api/v1/invitations/accept", {"token": token}, format="json").status_code
        == 403
    )
    assert not Membership.objects.filter(user=existing, company=company_a).exists()

    logged_in = client_for(existing)
    accepted = logged_in.post("/api/v1/invitations/accept", {"token": token}, format="json")
    assert accepted.status_code == 200
    assert Membership.objects.get(user=existing, company=company_a).role == Role.VIEWER


def test_invitation_accept_with_the_existing_password(api, company_a, inviting_owner):
    existing = UserFactory(email="pw@example.co")
    _, token = inviting_owner("pw@example.co")
    response = api.post(
        "/api/v1/invitations/accept", {"token": token, "password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 200
    assert Membership.objects.filter(user=existing, company=company_a, role=Role.SELLER).exists()


def test_revoked_and_expired_invitations_cannot_be_accepted(api, owner_a, inviting_owner):
    from django.utils import timezone

    invitation_id, token = inviting_owner("revoked@example.co")
    assert owner_a.post(f"/api/v1/invitations/{invitation_id}/revoke").status_code == 200
    assert owner_a.post(f"/api/v1/invitations/{invitation_id}/revoke").status_code == 409
    revoked = api.post(
        "/api/v1/invitations/accept",
        {"token": token, "password": "Clave-segura-2026"},
        format="json",
    )
    assert revoked.status_code == 409

    _, token = inviting_owner("late@example.co")
    Invitation.objects.filter(email="late@example.co").update(expires_at=timezone.now())
    expired = api.post(
        "/api/v1/invitations/accept",
        {"token": token, "password": "Clave-segura-2026"},
        format="json",
    )
    assert expired.status_code == 409
    assert "Vencida" in expired.json()["error"]["message"]  # Spanish by default
    assert not Membership.objects.filter(user__email="late@example.co").exists()
    assert (
        api.post("/api/v1/invitations/accept", {"token": "nope"}, format="json").status_code == 404
    )


def test_another_companys_invitation_is_not_found(
    company_b, owner_a, owner_b, django_capture_on_commit_callbacks
):
    invitation_id, _ = _invite(owner_b, "b-only@example.co", django_capture_on_commit_callbacks)
    assert owner_a.get(f"/api/v1/invitations/{invitation_id}/").status_code == 404
    assert owner_a.post(f"/api/v1/invitations/{invitation_id}/revoke").status_code == 404
    assert Invitation.objects.get(pk=invitation_id).status == Invitation.Status.PENDING
    assert owner_a.get("/api/v1/invitations/").json()["count"] == 0


def test_expire_invitations_task(company_a, owner_a, inviting_owner):
    from django.utils import timezone

    from accounts.tasks import expire_invitations

    inviting_owner("a@example.co")
    inviting_owner("b@example.co")
    Invitation.objects.filter(email="a@example.co").update(expires_at=timezone.now())
    assert expire_invitations.delay().get() == 1
    assert dict(Invitation.objects.values_list("email", "status")) == {
        "a@example.co": "expired",
        "b@example.co": "pending",
    }


def test_a_settings_change_from_a_stale_row_writes_only_its_fields(company_a):
    """A request's company is read when it authenticates. A change saves only the fields it
    was given, on the row as it is now: another admin's change meanwhile stays, and a company
    deactivated meanwhile is not brought back."""
    from accounts.services import company_deactivate, company_update
    from ally360.exceptions import NotFound

    first = Company.objects.get(pk=company_a.pk)
    second = Company.objects.get(pk=company_a.pk)
    company_update(company=first, data={"allow_negative_stock": True})
    company_update(company=second, data={"city": "Cali"})
    stored = Company.objects.get(pk=company_a.pk)
    assert (stored.allow_negative_stock, stored.city) == (True, "Cali")

    company_deactivate(company=Company.objects.get(pk=company_a.pk))
    with pytest.raises(NotFound):
        company_update(company=second, data={"city": "Medellín"})
    stored = Company.objects.get(pk=company_a.pk)
    assert (stored.is_active, stored.city) == (False, "Cali")


def test_a_stale_read_of_a_member_cannot_demote_the_owner_they_became(company_a, make_member):
    """An admin's PATCH read the member as a seller; an owner promoted them to owner before the
    admin's write: the admin must not overwrite an owner's role."""
    from accounts.services import membership_update
    from ally360.exceptions import PermissionDeniedError

    admin = make_member(company_a, Role.ADMIN)
    target_user = make_member(company_a, Role.SELLER)
    stale = Membership.objects.get(company=company_a, user=target_user)
    # meanwhile an owner promotes them
    Membership.objects.filter(pk=stale.pk).update(role=Role.OWNER)
    with pytest.raises(PermissionDeniedError):
        membership_update(actor=admin, actor_role=Role.ADMIN, membership=stale, role=Role.VIEWER)
    assert Membership.objects.get(pk=stale.pk).role == Role.OWNER


def test_a_stale_read_of_a_member_cannot_remove_the_owner_they_became(company_a, make_member):
    """Same race on DELETE members/{id}/: an admin must never remove an owner."""
    from accounts.services import membership_remove
    from ally360.exceptions import PermissionDeniedError

    admin = make_member(company_a, Role.ADMIN)
    target_user = make_member(company_a, Role.SELLER)
    stale = Membership.objects.get(company=company_a, user=target_user)
    Membership.objects.filter(pk=stale.pk).update(role=Role.OWNER)  # promoted meanwhile
    with pytest.raises(PermissionDeniedError):
        membership_remove(actor=admin, actor_role=Role.ADMIN, membership=stale)
    assert Membership.objects.filter(pk=stale.pk).exists()


def test_a_member_removed_meanwhile_is_not_found_not_a_500(
    company_a, client_as, make_member, monkeypatch
):
    """A double click on "remove", or two managers at once: the second request read the member
    before the first removed it, and finds nothing to change (404 `member_not_found`)."""
    from accounts import api as accounts_api

    owner = client_as(company_a, Role.OWNER)
    owner.raise_request_exception = False
    read = accounts_api.MemberViewSet.get_object

    def read_then_removed(view):
        found = read(view)
        Membership.objects.filter(pk=found.pk).delete()  # by the other request
        return found

    monkeypatch.setattr(accounts_api.MemberViewSet, "get_object", read_then_removed)
    for send in (
        lambda url: owner.patch(url, {"role": "viewer"}, format="json"),
        lambda url: owner.delete(url),
    ):
        membership = Membership.objects.get(
            user=make_member(company_a, Role.SELLER), company=company_a
        )
        gone = send(f"/api/v1/members/{membership.pk}/")
        assert gone.status_code == 404 and code(gone) == "member_not_found"


def test_an_owner_whose_account_was_switched_off_leaves_nobody_to_act_as_owner(
    company_a, client_as
):
    """The operator switched off the co-owner's account: the other owner is the last one who
    can act, and may not step down (it left the company to the back office)."""
    from accounts.models import User

    owner = client_as(company_a, Role.OWNER)
    other = Membership.objects.exclude(user=owner.user).get(company=company_a, role="owner")
    User.objects.filter(pk=other.user_id).update(is_active=False)
    mine = Membership.objects.get(company=company_a, user=owner.user)
    refused = owner.patch(f"/api/v1/members/{mine.pk}/", {"role": "admin"}, format="json")
    assert refused.status_code == 409 and code(refused) == "last_owner"
    assert Membership.objects.get(pk=mine.pk).role == Role.OWNER
    # The owner who can act still demotes or removes the one who cannot.
    demoted = owner.patch(f"/api/v1/members/{other.pk}/", {"role": "viewer"}, format="json")
    assert demoted.status_code == 200, demoted.json()
    assert owner.delete(f"/api/v1/members/{other.pk}/").status_code == 204


def test_a_role_change_racing_a_suspension_keeps_the_member_suspended(company_a, make_member):
    """An admin changes a member's role while an owner suspends them: the member must stay
    suspended (the role change must not write back the is_active it read before)."""
    from accounts.services import membership_update

    admin = make_member(company_a, Role.ADMIN)
    target_user = make_member(company_a, Role.SELLER)
    stale = Membership.objects.get(company=company_a, user=target_user)  # the admin's get_object
    # meanwhile the owner suspends the member (committed)
    Membership.objects.filter(pk=stale.pk).update(is_active=False)
    membership_update(actor=admin, actor_role=Role.ADMIN, membership=stale, role=Role.VIEWER)
    assert Membership.objects.get(pk=stale.pk).is_active is False


def test_a_revoke_racing_an_accept_finds_the_invitation_accepted(company_a, make_member):
    """An admin's revoke read the invitation as pending; it was accepted before the revoke's
    write: the revoke must answer 409, not mark an accepted invitation revoked (hiding that the
    person is now a member)."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import Invitation
    from accounts.services import invitation_revoke
    from ally360.exceptions import Conflict

    admin = make_member(company_a, Role.ADMIN)
    invitation = Invitation.objects.create(
        company=company_a,
        email="nuevo@example.co",
        role=Role.SELLER,
        invited_by=admin,
        token_hash="x" * 64,
        expires_at=timezone.now() + timedelta(days=7),
    )
    stale = Invitation.objects.get(pk=invitation.pk)  # the revoke's get_object
    Invitation.objects.filter(pk=invitation.pk).update(
        status=Invitation.Status.ACCEPTED, accepted_at=timezone.now()
    )
    with pytest.raises(Conflict):
        invitation_revoke(invitation=stale)
    assert Invitation.objects.get(pk=invitation.pk).status == Invitation.Status.ACCEPTED
