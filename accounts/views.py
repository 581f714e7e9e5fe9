"""Sign-in pages: /login/, /logout/ and the company chooser /company/.

The sign-in follows the API's rules: the same limits (accounts.limits, counted in the same
buckets) and the same check (`services.user_authenticate`: password, verified e-mail). The
session is Django's (cookie + CSRF); the company chosen is kept in it and its membership is
checked again on every page (ally360.pages.tenant_page).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login, logout
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ally360.exceptions import ServiceError
from ally360.pages import (
    SESSION_COMPANY,
    public_page,
    safe_next,
    session_company_id,
    session_company_set,
)

from . import services
from .forms import CompanyChoiceForm, LoginForm
from .limits import login_limit_wait
from .selectors import membership_role_get, user_memberships

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
