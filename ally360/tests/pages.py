"""Helpers for the page tests: a browser-like client signed in with a company chosen."""

from __future__ import annotations

from html.parser import HTMLParser

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


def form_as_rendered(page, testid: str) -> dict[str, list[str]]:
    """What a browser would send for the page's form `data-testid=testid` as rendered: every
    input's value (the hidden "initial-" ones too), the ticked checkboxes, each select's chosen
    options and each textarea's text; `{name: [values]}`, as the test client posts lists."""
    fields: dict[str, list[str]] = {}

    class Form(HTMLParser):
        inside = False
        select: str | None = None
        textarea: str | None = None

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "form":
                self.inside = attrs.get("data-testid") == testid
            elif not self.inside or not attrs.get("name") and tag != "option":
                return
            elif tag == "input":
                if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                    return
                if attrs.get("type") in ("submit", "button"):
                    return
                default = "on" if attrs.get("type") == "checkbox" else ""
                fields.setdefault(attrs["name"], []).append(attrs.get("value", default))
            elif tag == "select":
                self.select = attrs["name"]
                fields.setdefault(self.select, [])
            elif tag == "option" and self.select and "selected" in attrs:
                fields[self.select].append(attrs.get("value", ""))
            elif tag == "textarea":
                self.textarea = attrs["name"]
                fields[self.textarea] = [""]

        def handle_data(self, data):
            if self.textarea:
                fields[self.textarea][0] += data

        def handle_endtag(self, tag):
            if tag == "form":
                self.inside = False
            elif tag == "select":
                self.select = None
            elif tag == "textarea":
                self.textarea = None

    Form().feed(page.content.decode())
    return fields
