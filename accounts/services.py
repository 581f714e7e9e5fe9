"""Writes of the accounts app: users, companies, memberships, invitations, e-mails."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from ally360.db import serialize_in_tenant
from ally360.exceptions import (
    Conflict,
    NotFound,
    PermissionDeniedError,
    ServiceUnavailable,
    ValidationFailed,
)
from ally360.fiscal import normalize_nit
from ally360.roles import Role, has_permission
from ally360.tenancy import tenant_context

from .models import Company, Invitation, Membership, OutboundEmail, User
from .selectors import invitation_token_hash, membership_cache_key, membership_generation_key
from .tokens import tokens_still_valid

EMAIL_VERIFICATION_SALT = "ally360.accounts.verify-email"

# ---------------------------------------------------------------------------------------------
# Company set-up steps: each upper app registers what a new company needs (taxes, the main
# point of sale, the final-consumer contact, the default price list) from its AppConfig.ready().
# An explicit list rather than a signal, so the order and the callers are visible.
# ---------------------------------------------------------------------------------------------
_company_setup_steps: list[Callable[..., None]] = []


def register_company_setup(step: Callable[..., None]) -> Callable[..., None]:
    if step not in _company_setup_steps:
        _company_setup_steps.append(step)
    return step


def _run_company_setup(company: Company) -> None:
    with tenant_context(company.id):
        for step in _company_setup_steps:
            step(company=company)


# ---------------------------------------------------------------------------------------------
# E-mail outbox
# ---------------------------------------------------------------------------------------------
def email_waits_for(storage_key: str) -> bool:
    """Does an e-mail not yet sent attach this stored object? (Then it must stay.) Pending
    rows are few and indexed; the key is a unique path, so a text match finds exactly it."""
    return OutboundEmail.objects.filter(
        status=OutboundEmail.Status.PENDING, attachments__icontains=storage_key
    ).exists()


def email_queue(
    *,
    kind: str,
    to: str,
    template: str,
    context: dict,
    company: Company | None = None,
    attachments: list[dict] | None = None,
    email_id: uuid.UUID | str | None = None,
) -> OutboundEmail:
    """Store an e-mail and send it through Celery once the current transaction commits.

    `email_id` makes it idempotent: a task that runs twice for the same request (a redelivered
    message) finds the e-mail already queued and queues nothing more.
    """
    from .tasks import send_outbound_email

    rendered = render_to_string(template, context).strip()
    subject, _sep, body = rendered.partition("\n")
    email, created = OutboundEmail.objects.get_or_create(
        id=email_id or uuid.uuid4(),
        defaults={
            "company": company,
            "kind": kind,
            "to": to,
            "subject": subject.strip()[:255],
            "body": body.strip(),
            "attachments": attachments or [],
        },
    )
    if created:
        send_outbound_email.delay_on_commit(str(email.id))
    return email


def _frontend_link(path: str, **params) -> str:
    from urllib.parse import urlencode

    return f"{settings.FRONTEND_URL.rstrip('/')}/{path.lstrip('/')}?{urlencode(params)}"


# ---------------------------------------------------------------------------------------------
# Users and authentication
# ---------------------------------------------------------------------------------------------
def _validate_password(password: str, user: User | None = None, field: str = "password") -> None:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(exc.messages[0], fields={field: exc.messages})


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


@transaction.atomic
def user_register(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    company: dict | None = None,
) -> tuple[User, Company | None]:
    """Create an unverified user (and optionally their first company) and send the e-mail."""
    email = normalize_email(email)
    if User.objects.filter(email=email).exists():
        raise Conflict(
            _("An account with this e-mail already exists."),
            code="email_taken",
            fields={"email": [_("An account with this e-mail already exists.")]},
        )
    user = User(email=email, first_name=first_name, last_name=last_name, phone=phone)
    _validate_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise Conflict(_("An account with this e-mail already exists."), code="email_taken")
    created_company = company_create(owner=user, **company) if company else None
    email_verification_send(user=user)
    return user, created_company


PROFILE_FIELDS = ("first_name", "last_name", "phone")


def user_profile_update(*, user: User, data: dict) -> User:
    """Write only the profile's own columns. The row the request authenticated with may be
    stale: a password changed meanwhile (and the token version it raised) must stay changed."""
    changed = [field for field in PROFILE_FIELDS if field in data]
    for field in changed:
        setattr(user, field, data[field])
    if changed:
        user.save(update_fields=changed)
    return user


def email_verification_token(user: User) -> str:
    return signing.dumps({"u": str(user.id), "e": user.email}, salt=EMAIL_VERIFICATION_SALT)


def email_verification_send(*, user: User) -> None:
    if user.is_email_verified:
        return
    token = email_verification_token(user)
    email_queue(
        kind="verify_email",
        to=user.email,
        template="emails/verify_email.txt",
        context={"user": user, "token": token, "link": _frontend_link("verify-email", token=token)},
    )


def email_verification_resend(*, email: str) -> None:
    """Always succeeds from the caller's point of view: no account enumeration."""
    user = User.objects.filter(email=normalize_email(email), is_active=True).first()
    if user is not None:
        email_verification_send(user=user)


@transaction.atomic
def email_verify(*, token: str) -> User:
    try:
        data = signing.loads(
            token, salt=EMAIL_VERIFICATION_SALT, max_age=settings.EMAIL_VERIFICATION_MAX_AGE
        )
    except signing.SignatureExpired:
        raise ValidationFailed(
            _("The verification link has expired. Ask for a new one."), code="token_expired"
        )
    except signing.BadSignature:
        raise ValidationFailed(_("The verification link is not valid."), code="token_invalid")
    user = User.objects.select_for_update().filter(id=data["u"], email=data["e"]).first()
    if user is None:
        raise ValidationFailed(_("The verification link is not valid."), code="token_invalid")
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    return user


def user_authenticate(*, email: str, password: str) -> User:
    from django.contrib.auth import authenticate
    from django.contrib.auth.models import update_last_login

    user = authenticate(username=normalize_email(email), password=password)
    if user is None:
        raise ValidationFailed(_("E-mail or password is incorrect."), code="invalid_credentials")
    if not user.is_email_verified:
        raise PermissionDeniedError(
            _("Verify your e-mail address before logging in."), code="email_not_verified"
        )
    # Recorded for the back-office, and it ends any password-reset link still out: the reset
    # token is made over it.
    update_last_login(None, user)
    return user


@transaction.atomic
def refresh_token_rotate(*, raw: str) -> dict:
    """A new token pair for a refresh token, which is blacklisted: used once. The token's row
    is locked first, so the same token sent twice at once rotates once; the second request
    then finds it blacklisted (TokenError), instead of both checking before either wrote."""
    from rest_framework_simplejwt.serializers import TokenRefreshSerializer
    from rest_framework_simplejwt.tokens import RefreshToken

    token = RefreshToken(raw)  # signature, expiry, blacklist: TokenError
    user = User.objects.filter(pk=token.payload.get("user_id")).first()
    if user is not None and not tokens_still_valid(user, token):
        # Of a password since replaced (also by the back-office, which blacklists nothing).
        raise TokenError(_("The token is of an earlier password."))
    token.outstand()  # a row to lock, also for a token issued before the blacklist kept one
    OutstandingToken.objects.select_for_update().filter(jti=token.payload.get("jti")).first()

    serializer = TokenRefreshSerializer(data={"refresh": raw})
    serializer.is_valid(raise_exception=True)  # checks the blacklist again, under the lock
    return serializer.validated_data


def _outstanding_tokens_blacklist(user: User) -> None:

    tokens = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now())
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in tokens], ignore_conflicts=True
    )


def password_reset_request(*, email: str) -> None:
    """Send a reset link when the account exists; the caller always answers the same."""
    user = User.objects.filter(email=normalize_email(email), is_active=True).first()
    if user is None:
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    email_queue(
        kind="password_reset",
        to=user.email,
        template="emails/password_reset.txt",
        context={
            "user": user,
            "uid": uid,
            "token": token,
            "link": _frontend_link("reset-password", uid=uid, token=token),
        },
    )


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    try:
        user_id = force_str(urlsafe_base64_decode(uid))
        user = User.objects.select_for_update().get(pk=user_id, is_active=True)
    except (ValueError, TypeError, OverflowError, User.DoesNotExist, DjangoValidationError):
        user = None
    if user is None or not default_token_generator.check_token(user, token):
        raise ValidationFailed(_("The reset link is invalid or has expired."), code="token_invalid")
    _validate_password(new_password, user, field="new_password")
    user.set_password(new_password)
    if user.email_verified_at is None:
        # Following the link proves the user reads this mailbox.
        user.email_verified_at = timezone.now()
    # set_password raised the token version: whoever held a token no longer holds the account.
    user.save(update_fields=["password", "email_verified_at", "token_version"])
    _outstanding_tokens_blacklist(user)
    return user


@transaction.atomic
def password_change(*, user: User, current_password: str, new_password: str) -> None:
    if not user.check_password(current_password):
        raise ValidationFailed(
            _("The current password is incorrect."),
            fields={"current_password": [_("The current password is incorrect.")]},
        )
    if current_password == new_password:
        raise ValidationFailed(
            _("The new password must differ from the current one."),
            fields={"new_password": [_("The new password must differ from the current one.")]},
        )
    _validate_password(new_password, user, field="new_password")
    # Every session ends, this one too: refresh tokens are blacklisted, and access and context
    # tokens issued before are refused (set_password raises the token version; a stolen token
    # would otherwise live on).
    user.set_password(new_password)
    user.save(update_fields=["password", "token_version"])
    _outstanding_tokens_blacklist(user)


# ---------------------------------------------------------------------------------------------
# Companies
# ---------------------------------------------------------------------------------------------
COMPANY_EDITABLE_FIELDS = (
    "name",
    "legal_name",
    "email",
    "phone",
    "address",
    "city",
    "allow_negative_stock",
    "sellers_may_change_price",
    "seller_max_discount_pct",
)


@transaction.atomic
def company_create(
    *, owner: User, name: str, nit: str, nit_dv: str | None = None, **fields
) -> Company:
    """Create a company, make `owner` its owner and set up what every company needs."""
    digits, check_digit = normalize_nit(nit, nit_dv)
    unknown = set(fields) - set(COMPANY_EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(f"Unknown company fields: {', '.join(sorted(unknown))}.")
    company = Company.objects.create(name=name.strip(), nit=digits, nit_dv=check_digit, **fields)
    Membership.objects.create(user=owner, company=company, role=Role.OWNER)
    membership_cache_invalidate(user_id=owner.id, company_id=company.id, grants_only=True)
    _run_company_setup(company)
    return company


@transaction.atomic
def company_update(*, company: Company, data: dict) -> Company:
    """Write only the fields given, on the row as it is now: the company the request
    authenticated with may be stale (a deactivation or another admin's change meanwhile)."""
    data = dict(data)
    unknown = set(data) - {*COMPANY_EDITABLE_FIELDS, "nit", "nit_dv"}
    if unknown:
        raise ValidationFailed(f"The field {', '.join(sorted(unknown))} cannot be changed.")
    company = Company.objects.select_for_update(no_key=True).get(pk=company.pk)
    if not company.is_active:
        raise NotFound(_("Company not found."), code="company_not_found")
    changed = list(data)
    if "nit" in data or "nit_dv" in data:
        company.nit, company.nit_dv = normalize_nit(
            data.pop("nit", company.nit), data.pop("nit_dv", None)
        )
        changed = [*data, "nit", "nit_dv"]
    for field, value in data.items():
        setattr(company, field, value)
    if changed:
        company.save(update_fields=[*changed, "updated_at"])
    return company


@transaction.atomic
def company_deactivate(*, company: Company) -> Company:
    """Companies are never deleted: fiscal records must be kept. Deactivation locks everyone out."""
    company = Company.objects.select_for_update(no_key=True).get(pk=company.pk)
    company.is_active = False
    company.save(update_fields=["is_active", "updated_at"])
    for user_id in Membership.objects.filter(company=company).values_list("user_id", flat=True):
        membership_cache_invalidate(user_id=user_id, company_id=company.id)
    return company


# ---------------------------------------------------------------------------------------------
# Memberships
# ---------------------------------------------------------------------------------------------
def membership_cache_invalidate(*, user_id, company_id, grants_only: bool = False) -> None:
    """A new generation for the membership, now and after the commit: a role cached under an
    earlier one, also by a request that read the database before the commit, is never used.

    A change that may take rights away waits for the cache (503 when it does not answer); one
    that only grants them (`grants_only`: a new company, an accepted invitation) goes on, since
    a stale answer could only refuse for a while."""
    key = membership_generation_key(user_id, company_id)
    role_key = membership_cache_key(user_id, company_id)

    def new_generation() -> bool:
        generation = uuid.uuid4().hex
        cache.set(key, generation, None)  # no expiry: it must outlive the cached roles
        cache.delete(role_key)  # and the role goes too, should the generation ever be evicted
        return cache.get(key) == generation

    if not new_generation() and not grants_only:
        # The cache hides its errors (so requests go on with Redis down): unchecked, a role
        # cached before this change could be used for minutes once Redis answers again.
        raise ServiceUnavailable(
            _("Membership changes need the cache, which does not answer. Try again shortly."),
            code="cache_unavailable",
        )
    transaction.on_commit(new_generation)


def _other_owners_who_can_act(membership: Membership) -> int:
    """The company's owners besides `membership` who can act: a membership switched off, or an
    account the operator switched off, leaves nobody to act as owner. Locked, so two owners
    stepping down at once cannot both go."""
    owners = (
        Membership.objects.select_for_update(of=("self",))
        .filter(company_id=membership.company_id, role=Role.OWNER, is_active=True)
        .filter(user__is_active=True)
        .exclude(pk=membership.pk)
    )
    return len(list(owners))


def owner_rules_allow(*, actor_role: str, membership: Membership) -> bool:
    """Whether the owner rules let `actor_role` change or remove `membership` at all: only an
    owner touches an owner (the pages show an owner's row without its forms to the others)."""
    return membership.role != Role.OWNER or actor_role == Role.OWNER


def _guard_owner_rules(*, actor_role: str, membership: Membership, new_role: str | None) -> None:
    touches_owner = not owner_rules_allow(actor_role=actor_role, membership=membership) or (
        new_role == Role.OWNER and actor_role != Role.OWNER
    )
    if touches_owner:
        raise PermissionDeniedError(
            _("Only an owner can grant, change or remove the owner role."), code="owner_required"
        )


def _lock_membership(membership: Membership) -> Membership:
    """The membership as it is now, locked. Changes to a company's members take turns first,
    so the owner rules are checked on rows no other change is altering (an admin's request
    that read a seller must not demote the owner they became)."""
    serialize_in_tenant("members", tenant=membership.company_id)
    locked = (
        Membership.objects.select_for_update()
        .select_related("company")
        .filter(pk=membership.pk)
        .first()
    )
    if locked is None:  # removed by another request since it was read (a double click)
        raise NotFound(_("Member not found."), code="member_not_found")
    return locked


@transaction.atomic
def membership_update(
    *,
    actor: User,
    actor_role: str,
    membership: Membership,
    role: str | None = None,
    is_active: bool | None = None,
) -> Membership:
    membership = _lock_membership(membership)
    _guard_owner_rules(actor_role=actor_role, membership=membership, new_role=role)
    loses_owner = (
        membership.role == Role.OWNER
        and membership.is_active
        and ((role is not None and role != Role.OWNER) or is_active is False)
    )
    if loses_owner and not _other_owners_who_can_act(membership):
        raise Conflict(
            _("A company needs at least one active owner. Make someone else owner first."),
            code="last_owner",
        )
    changed = []
    if role is not None:
        membership.role = role
        changed.append("role")
    if is_active is not None:
        membership.is_active = is_active
        changed.append("is_active")
    if changed:
        membership.save(update_fields=[*changed, "updated_at"])
    membership_cache_invalidate(user_id=membership.user_id, company_id=membership.company_id)
    return membership


@transaction.atomic
def membership_remove(*, actor: User, actor_role: str, membership: Membership) -> None:
    membership = _lock_membership(membership)
    _guard_owner_rules(actor_role=actor_role, membership=membership, new_role=None)
    if (
        membership.role == Role.OWNER
        and membership.is_active
        and not _other_owners_who_can_act(membership)
    ):
        raise Conflict(_("The last owner cannot leave the company."), code="last_owner")
    membership_cache_invalidate(user_id=membership.user_id, company_id=membership.company_id)
    membership.delete()


# ---------------------------------------------------------------------------------------------
# Invitations
# ---------------------------------------------------------------------------------------------
@transaction.atomic
def invitation_create(
    *, company: Company, invited_by: User, actor_role: str, email: str, role: str
) -> Invitation:
    email = normalize_email(email)
    if role == Role.OWNER and actor_role != Role.OWNER:
        raise PermissionDeniedError(
            _("Only an owner can invite another owner."), code="owner_required"
        )
    if Membership.objects.filter(company=company, user__email=email, is_active=True).exists():
        raise Conflict(_("This person is already a member of the company."), code="already_member")
    suspended_owner = Membership.objects.filter(
        company=company, user__email=email, is_active=False, role=Role.OWNER
    ).exists()
    if suspended_owner and actor_role != Role.OWNER:
        # Accepting reactivates that membership with the invited role: only an owner may
        # change an owner's membership.
        raise PermissionDeniedError(
            _("This person is a suspended owner: only an owner can invite them back."),
            code="owner_required",
        )
    # A stale pending invitation must not block a new one.

    Invitation.objects.filter(
        company=company,
        email=email,
        status=Invitation.Status.PENDING,
        expires_at__lte=timezone.now(),
    ).update(status=Invitation.Status.EXPIRED)
    if Invitation.objects.filter(
        company=company, email=email, status=Invitation.Status.PENDING
    ).exists():
        raise Conflict(
            _("A pending invitation for this e-mail already exists. Revoke it first."),
            code="invitation_pending",
        )
    token = secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                company=company,
                email=email,
                role=role,
                invited_by=invited_by,
                token_hash=invitation_token_hash(token),
                expires_at=timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS),
            )
    except IntegrityError:
        raise Conflict(
            _("A pending invitation for this e-mail already exists. Revoke it first."),
            code="invitation_pending",
        )
    email_queue(
        kind="invitation",
        to=email,
        company=company,
        template="emails/invitation.txt",
        context={
            "company": company,
            "invited_by": invited_by,
            "role": invitation.get_role_display(),
            "token": token,
            "link": _frontend_link("accept-invitation", token=token),
            "days": settings.INVITATION_TTL_DAYS,
        },
    )
    invitation.raw_token = token  # shown once to the inviter's e-mail, never stored
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> Invitation:
    # Locked, as accepting locks it: a revoke that raced an accept finds it accepted.
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != Invitation.Status.PENDING:
        raise Conflict(
            _("Only a pending invitation can be revoked."), code="invitation_not_pending"
        )
    invitation.status = Invitation.Status.REVOKED
    invitation.save(update_fields=["status"])
    return invitation


def _inviter_may_still_invite(invitation: Invitation) -> bool:
    """Whether the member who invited may still invite to this role now (an account switched
    off by the operator may not)."""
    role = (
        Membership.objects.filter(
            company=invitation.company,
            user_id=invitation.invited_by_id,
            is_active=True,
            user__is_active=True,
        )
        .values_list("role", flat=True)
        .first()
    )
    if not has_permission(role, "invitations", "write"):
        return False
    return invitation.role != Role.OWNER or role == Role.OWNER


@transaction.atomic
def invitation_accept(
    *,
    token: str,
    user: User | None = None,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
) -> Membership:
    """Join the inviting company.

    An existing account must prove it is theirs: either the request is authenticated as that
    user or the body carries their password. A new account is created with `password`; the
    invitation e-mail proves the address, so it starts verified.
    """
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("company")
        .filter(token_hash=invitation_token_hash(token or ""))
        .first()
    )
    if invitation is None:
        raise NotFound(_("This invitation does not exist."), code="invitation_not_found")
    status = invitation.status
    if status == Invitation.Status.PENDING and invitation.is_expired:
        status = Invitation.Status.EXPIRED  # the hourly beat task records it
    if status != Invitation.Status.PENDING:
        raise Conflict(
            _("This invitation is no longer valid (%(status)s).")
            % {"status": Invitation.Status(status).label},
            code="invitation_not_pending",
        )
    if not invitation.company.is_active:
        raise Conflict(
            _("The company of this invitation is no longer active."), code="company_inactive"
        )
    if not _inviter_may_still_invite(invitation):
        # Removed, suspended or demoted since: their invitations go with their rights.
        raise Conflict(
            _("Whoever sent this invitation can no longer invite: ask the company again."),
            code="inviter_not_allowed",
        )

    existing = User.objects.filter(email=invitation.email).first()
    if existing is not None:
        proven = (user is not None and user.pk == existing.pk) or (
            password and existing.check_password(password)
        )
        if not proven:
            raise PermissionDeniedError(
                _("An account with this e-mail exists: log in as that user or give its password."),
                code="account_exists",
            )
        if not existing.is_active:
            raise PermissionDeniedError(_("This account is disabled."), code="account_disabled")
        member_user = existing
        if member_user.email_verified_at is None:
            member_user.email_verified_at = timezone.now()
            member_user.save(update_fields=["email_verified_at"])
    else:
        if user is not None:
            raise PermissionDeniedError(
                _("This invitation was sent to another e-mail address."), code="email_mismatch"
            )
        if not password:
            raise ValidationFailed(
                _("Choose a password to create your account."),
                fields={"password": [_("This field is required.")]},
            )
        member_user = User(
            email=invitation.email,
            first_name=first_name,
            last_name=last_name,
            email_verified_at=timezone.now(),
        )
        _validate_password(password, member_user)
        member_user.set_password(password)
        try:
            with transaction.atomic():
                member_user.save()
        except IntegrityError:  # created meanwhile (another invitation, a registration)
            raise Conflict(
                _("An account with this e-mail was just created: log in and accept again."),
                code="account_exists",
            )

    membership, created = Membership.objects.select_for_update().get_or_create(
        user=member_user,
        company=invitation.company,
        defaults={"role": invitation.role, "is_active": True},
    )
    if not created:
        if membership.is_active:
            raise Conflict(_("You are already a member of this company."), code="already_member")
        membership.role = invitation.role
        membership.is_active = True
        membership.save(update_fields=["role", "is_active", "updated_at"])
    invitation.status = Invitation.Status.ACCEPTED
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = member_user
    invitation.save(update_fields=["status", "accepted_at", "accepted_by"])
    membership_cache_invalidate(
        user_id=member_user.id, company_id=invitation.company_id, grants_only=True
    )
    return membership


def invitations_expire() -> int:
    return Invitation.objects.filter(
        status=Invitation.Status.PENDING, expires_at__lte=timezone.now()
    ).update(status=Invitation.Status.EXPIRED)


TOKEN_PURGE_BATCH = 5000


def expired_tokens_purge() -> int:
    """Forget refresh tokens past their expiry, with their blacklist rows (a cascade): an
    expired token is refused by its own date, and every login and refresh writes a row, so the
    tables would only grow. Answers how many tokens went."""
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    now, purged = timezone.now(), 0
    while True:  # in batches: the cascade reads each token it deletes
        batch = list(
            OutstandingToken.objects.filter(expires_at__lt=now).values_list("pk", flat=True)[
                :TOKEN_PURGE_BATCH
            ]
        )
        if not batch:
            return purged
        deleted = OutstandingToken.objects.filter(pk__in=batch).delete()[1]
        purged += deleted.get(OutstandingToken._meta.label, 0)
