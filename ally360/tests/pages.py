"""Helpers for the page tests: a browser-like client signed in with a company chosen."""

from __future__ import annotations

from django.test import Client

from ally360.pages import SESSION_COMPANY
from ally360.tenancy import tenant_context


def page_client(user, company=None) -> Client:
    """A Django test client signed in as `user` (a session, as the sign-in page makes), with
    `company` chosen."""
    client = Client()
    client.force_login(user)
    if company is not None:
        session = client.session
        session[SESSION_COMPANY] = str(company.id)
        session.save()
    client.user = user
    return client


def row_counts(company, *models) -> dict:
    """{model name: rows of `company`}."""
    with tenant_context(company):
        return {model.__name__: model.objects.count() for model in models}
