"""Sign-in pages: /login/, /logout/, the company chooser /company/, /accept-invitation (the
link of an invitation's e-mail), and the company's members and invitations (/members/).

The sign-in follows the API's rules: the same limits (accounts.limits, counted in the same
buckets) and the same check (`services.user_authenticate`: password, verified e-mail). The
session is Django's (cookie + CSRF); the company chosen is kept in it and its membership is
checked again on every page (ally360.pages.tenant_page).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ally360.api.throttling import rate_limit_hit
from ally360.exceptions import ServiceError
from ally360.pages import (
    SESSION_COMPANY,
    forbidden,
    form_service_error,
    public_page,
    run_service,
    safe_next,
    session_company_id,
    session_company_set,
    tenant_page,
)

from . import selectors, services
from .forms import (
    CompanyChoiceForm,
    InvitationAcceptForm,
    InviteForm,
    LoginForm,
    MemberForm,
    PasswordResetForm,
    PasswordResetRequestForm,
)
from .limits import client_ip, login_limit_wait
from .models import Company, Invitation, Membership
from .selectors import account_exists, invitation_by_token, membership_role_get, user_memberships

LOGIN_BACKEND = "django.contrib.auth.backends.ModelBackend"


@public_page
@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.user.is_authenticated and request.method == "GET":
        return redirect(safe_next(request))
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST":
        email = services.normalize_email(str(request.POST.get("email", "")))
        wait = login_limit_wait(request, email=email)
        if wait is not None:
            form = LoginForm(request.POST)
            form.is_valid()
            form.add_error(
                None,
                _("Too many sign-in attempts. Try again in %(seconds)s seconds.")
                % {"seconds": wait},
            )
            response = render(request, "accounts/login.html", {"form": form}, status=429)
            response["Retry-After"] = str(wait)
            return response
        if form.is_valid():
            try:
                user = services.user_authenticate(
                    email=form.cleaned_data["email"], password=form.cleaned_data["password"]
                )
            except ServiceError as error:
                form.add_error(None, error.message)
            else:
                login(request, user, backend=LOGIN_BACKEND)  # a new session key
                return _after_login(request, user)
        status = 400
    return render(
        request,
        "accounts/login.html",
        {"form": form, "next": safe_next(request, "")},
        status=status,
    )


def _after_login(request, user):
    """One company: straight in. Several (or none): the chooser, which says so."""
    memberships = list(user_memberships(user=user)[:2])
    target = safe_next(request)
    if len(memberships) == 1:
        session_company_set(request, memberships[0].company_id)
        return redirect(target)
    chooser = reverse("pages:company")
    return redirect(f"{chooser}?{urlencode({'next': target})}" if target != "/" else chooser)


@require_POST
def logout_view(request):
    logout(request)  # flushes the session, the company with it
    return redirect("pages:login")


@public_page
@require_http_methods(["GET", "POST"])
def company_view(request):
    """The companies the user belongs to; choosing one keeps it in the session."""
    if not request.user.is_authenticated:
        return redirect("pages:login")
    memberships = list(user_memberships(user=request.user))
    if request.method == "POST":
        form = CompanyChoiceForm(request.POST)
        if form.is_valid():
            company_id = form.cleaned_data["company"]
            if membership_role_get(user_id=request.user.pk, company_id=company_id) is not None:
                session_company_set(request, company_id)
                return redirect(safe_next(request))
        # Not a company of theirs (removed meanwhile, or never): the same answer either way.
        request.session.pop(SESSION_COMPANY, None)
        messages.error(request, _("That company is not available."))
        return redirect("pages:company")
    if len(memberships) == 1 and session_company_id(request) is None:
        session_company_set(request, memberships[0].company_id)
        return redirect(safe_next(request))
    return render(
        request,
        "accounts/company.html",
        {
            "memberships": memberships,
            "current": session_company_id(request),
            "next": safe_next(request, ""),
        },
    )


@public_page
@require_http_methods(["GET", "POST"])
def invitation_accept_view(request):
    """An invitation's e-mail link (`FRONTEND_URL/accept-invitation?token=…`): who invites to
    which company and role, then `invitation_accept` — a new account with its name and
    password, an existing one with its password (or signed in as it) — and the member signed
    in to that company. The API's limit on attempts per client address holds here too."""
    token = str(request.GET.get("token") or request.POST.get("token") or "")[:200]
    invitation = invitation_by_token(token)
    pending = invitation is not None and invitation.status == Invitation.Status.PENDING
    if pending and invitation.is_expired:  # the hourly task has not recorded it yet
        invitation.status = Invitation.Status.EXPIRED
    if invitation is None or invitation.status != Invitation.Status.PENDING:
        return render(
            request, "accounts/invitation_accept.html", {"invitation": invitation}, status=404
        )
    signed_in_as_invited = request.user.is_authenticated and request.user.email == invitation.email
    new_account = not account_exists(invitation.email)
    form = InvitationAcceptForm(
        request.POST or None, new_account=new_account, signed_in=signed_in_as_invited
    )
    status = 200
    if request.method == "POST":
        wait = rate_limit_hit(
            request, group="auth.invitation_accept", key=f"ip:{client_ip(request)}", rate="10/m"
        )
        if wait is not None:
            form.is_valid()
            form.add_error(
                None,
                _("Too many attempts. Try again in %(seconds)s seconds.") % {"seconds": wait},
            )
            status = 429
        elif form.is_valid():
            try:
                membership = services.invitation_accept(
                    token=token,
                    user=request.user if signed_in_as_invited else None,
                    **form.cleaned_data,
                )
            except ServiceError as error:
                form_service_error(form, error)
            else:
                if not signed_in_as_invited:
                    login(request, membership.user, backend=LOGIN_BACKEND)
                session_company_set(request, membership.company_id)
                messages.success(
                    request,
                    _("Welcome to %(company)s.") % {"company": membership.company.name},
                )
                return redirect("/")
        if status == 200:
            status = 400
    return render(
        request,
        "accounts/invitation_accept.html",
        {
            "invitation": invitation,
            "form": form,
            "token": token,
            "new_account": new_account,
            "signed_in": signed_in_as_invited,
        },
        status=status,
    )


# --- members and invitations -------------------------------------------------------------------


def _members_page(request, invite_form=None, refused=None, status=200):
    """The members (each with its role and active form, for whoever may change them) and the
    pending invitations; `refused` is (membership id, bound form) when a change was refused."""
    company = Company.objects.get(pk=request.page.company_id)
    members = list(selectors.company_members(company=company))
    refused_id, refused_form = refused or (None, None)
    for member in members:
        member.changeable = services.owner_rules_allow(
            actor_role=request.page.role, membership=member
        )
        member.form = (
            refused_form
            if member.pk == refused_id
            else MemberForm(
                initial={"role": member.role, "is_active": member.is_active},
                prefix=str(member.pk),
            )
        )
    invitations = selectors.company_invitations(company=company).filter(
        status=Invitation.Status.PENDING, expires_at__gt=timezone.now()
    )
    return render(
        request,
        "accounts/members.html",
        {
            "members": members,
            "invitations": invitations,
            "invite_form": invite_form or InviteForm(),
            "me": request.user.pk,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@tenant_page("members", "read")
def members_view(request):
    """The company's team; a POST invites someone by e-mail with a role."""
    if request.method == "GET":
        return _members_page(request)
    if not request.page.may("invitations", "write"):
        return forbidden(request)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = run_service(
                services.invitation_create,
                company=Company.objects.get(pk=request.page.company_id),
                invited_by=request.user,
                actor_role=request.page.role,
                **form.cleaned_data,
            )
        except ServiceError as error:
            form_service_error(form, error)
        else:
            messages.success(
                request,
                _(
                    "Invitation sent to %(email)s: the link in the e-mail is valid for %(days)s days."
                )
                % {"email": invitation.email, "days": settings.INVITATION_TTL_DAYS},
            )
            return redirect("pages:members")
    return _members_page(request, invite_form=form, status=400)


@require_POST
@tenant_page("members", "write")
def member_update_view(request, pk):
    # Another company's too: 404.
    membership = get_object_or_404(Membership, company_id=request.page.company_id, pk=pk)
    form = MemberForm(request.POST, prefix=str(membership.pk))
    if form.is_valid():
        try:
            run_service(
                services.membership_update,
                actor=request.user,
                actor_role=request.page.role,
                membership=membership,
                **form.changes(),
            )
        except ServiceError as error:
            form_service_error(form, error)
        else:
            messages.success(request, _("%(email)s saved.") % {"email": membership.user.email})
            return redirect("pages:members")
    return _members_page(request, refused=(membership.pk, form), status=400)


@require_POST
@tenant_page("members", "write")
def member_remove_view(request, pk):
    membership = get_object_or_404(Membership, company_id=request.page.company_id, pk=pk)
    try:
        run_service(
            services.membership_remove,
            actor=request.user,
            actor_role=request.page.role,
            membership=membership,
        )
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("%(email)s left the company.") % {"email": membership.user.email}
        )
    return redirect("pages:members")


@require_POST
@tenant_page("invitations", "write")
def invitation_revoke_view(request, pk):
    invitation = get_object_or_404(Invitation, company_id=request.page.company_id, pk=pk)
    try:
        run_service(services.invitation_revoke, invitation=invitation)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("The invitation to %(email)s was revoked.") % {"email": invitation.email}
        )
    return redirect("pages:members")


# --- the e-mails' other links: verifying an address, resetting a password ----------------------


def _limited(request, form, *, group: str, rate: str) -> bool:
    """Count an attempt in the API's bucket for this client address; over the limit, the form
    says how long to wait."""
    wait = rate_limit_hit(request, group=group, key=f"ip:{client_ip(request)}", rate=rate)
    if wait is None:
        return False
    form.is_valid()
    form.add_error(
        None, _("Too many attempts. Try again in %(seconds)s seconds.") % {"seconds": wait}
    )
    return True


@public_page
@require_http_methods(["GET", "POST"])
def email_verify_view(request):
    """A verification e-mail's link (`FRONTEND_URL/verify-email?token=…`): the address is
    verified by a POST (a button), not by the GET a mail scanner may make, with
    `services.email_verify`."""
    token = str(request.GET.get("token") or request.POST.get("token") or "")[:500]
    context = {"token": token, "done": False, "error": None}
    status = 200
    if request.method == "POST":
        try:
            run_service(services.email_verify, token=token)
        except ServiceError as error:
            context["error"], status = error.message, 400
        else:
            context["done"] = True
    return render(request, "accounts/email_verify.html", context, status=status)


@public_page
@require_http_methods(["GET", "POST"])
def password_reset_request_view(request):
    """ "Forgot your password?": the reset e-mail (`services.password_reset_request`); the page
    answers the same whether the account exists or not. The API's limit per client address."""
    form = PasswordResetRequestForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if _limited(request, form, group="auth.password_reset", rate="5/m"):
            status = 429
        elif form.is_valid():
            run_service(services.password_reset_request, email=form.cleaned_data["email"])
            return render(request, "accounts/password_reset_request.html", {"sent": True})
    return render(request, "accounts/password_reset_request.html", {"form": form}, status=status)


@public_page
@require_http_methods(["GET", "POST"])
def password_reset_view(request):
    """A reset e-mail's link (`FRONTEND_URL/reset-password?uid=…&token=…`): the new password,
    `services.password_reset_confirm` (every session and token of the account ends); an
    invalid or used link, or a weak password, on the form."""
    uid = str(request.GET.get("uid") or request.POST.get("uid") or "")[:100]
    token = str(request.GET.get("token") or request.POST.get("token") or "")[:100]
    form = PasswordResetForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if _limited(request, form, group="auth.password_reset_confirm", rate="10/m"):
            status = 429
        elif form.is_valid():
            try:
                run_service(
                    services.password_reset_confirm,
                    uid=uid,
                    token=token,
                    new_password=form.cleaned_data["new_password"],
                )
            except ServiceError as error:
                form_service_error(form, error)
            else:
                logout(request)  # whoever was signed in here signs in again, with the new one
                return render(request, "accounts/password_reset.html", {"done": True})
    return render(
        request,
        "accounts/password_reset.html",
        {"form": form, "uid": uid, "token": token},
        status=status,
    )
