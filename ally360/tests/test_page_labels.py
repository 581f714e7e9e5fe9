"""Every form control on the pages has an accessible name: a `<label for>`, a wrapping
`<label>`, `aria-label`, `aria-labelledby` or `title`. Rows of inputs under a table's column
header (a document's lines, one field per bill or product) are named by none of these unless
the template gives them one. To check another page, add its address to `PAGES`."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from ally360.roles import Role
from ally360.tenancy import tenant_context
from bills.tests.test_purchase_pages import received, supplier_of
from inventory.tests.test_adjustment_page import pages_as
from inventory.tests.test_category_pages import new_brand, new_category
from invoices.tests.test_pages import open_shift
from invoices.tests.test_return_page import sold

pytestmark = pytest.mark.django_db

UNNAMED_TYPES = {"hidden", "submit", "button", "image", "reset"}  # named by their value or unseen
NAMING_ATTRIBUTES = ("aria-label", "aria-labelledby", "title")

# (address, a pattern the name of a control on it must match: the page has the rows it is about)
PAGES = [
    ("/stock/adjustments/new/", r"lines-0-quantity"),
    ("/stock/transfers/new/", r"lines-0-quantity"),
    ("/purchases/new/", r"lines-0-unit_cost"),
    ("/pos/", r"lines-0-discount_pct"),
    ("/invoices/{invoice}/credit/", r"unit_price_\S+"),
    ("/invoices/{invoice}/return/", r"line_\S+"),
    ("/purchases/{bill}/return/", r"line_\S+"),
    ("/suppliers/{supplier}/payment/", r"bill_\S+"),
    ("/categories/", r"[0-9a-f-]{36}-name"),  # a row's rename field
    ("/points-of-sale/{pdv}/", r"[0-9a-f-]{36}-name"),  # a register's rename field
    ("/products/variants/{variant}/stock/", r"min_quantity"),
    ("/receivables/", r"as_of"),
    ("/payables/", r"as_of"),
]


def form_controls(html: str) -> list[dict]:
    """The visible controls inside the page's forms (not hidden inputs nor buttons), each as
    its attributes plus `wrapped` (inside a `<label>`) and `labelled` (a `<label for>` names
    its id)."""
    controls: list[dict] = []
    label_for: set[str] = set()

    class Page(HTMLParser):
        forms = 0
        labels = 0

        def handle_starttag(self, tag, attrs):
            attrs = {name: value or "" for name, value in attrs}
            if tag == "form":
                self.forms += 1
            elif tag == "label":
                self.labels += 1
                if attrs.get("for"):
                    label_for.add(attrs["for"])
            elif tag in ("input", "select", "textarea") and self.forms:
                if tag == "input" and attrs.get("type", "text").lower() in UNNAMED_TYPES:
                    return
                if "hidden" in attrs:
                    return
                controls.append({"tag": tag, **attrs, "wrapped": bool(self.labels)})

        def handle_endtag(self, tag):
            if tag == "form":
                self.forms = max(self.forms - 1, 0)
            elif tag == "label":
                self.labels = max(self.labels - 1, 0)

    Page(convert_charrefs=True).feed(html)
    for control in controls:
        control["labelled"] = bool(control.get("id")) and control["id"] in label_for
    return controls


def has_accessible_name(control: dict) -> bool:
    return (
        control["wrapped"]
        or control["labelled"]
        or any(control.get(name, "").strip() for name in NAMING_ATTRIBUTES)
    )


@pytest.fixture
def documents(shop_a):
    """An owner with an open shift, an invoice sold from it, a supplier with a received bill,
    a category and a brand: every page of `PAGES` has its rows."""
    owner = pages_as(shop_a.company, Role.OWNER)
    open_shift(owner, shop_a)
    invoice = sold(shop_a, owner)
    supplier = supplier_of(shop_a.company)
    bill = received(shop_a, supplier)
    assert owner.post("/categories/", new_category("Bebidas")).status_code == 302
    assert owner.post("/categories/", new_brand("Postobón")).status_code == 302
    with tenant_context(shop_a.company):
        ids = {
            "invoice": invoice.pk,
            "bill": bill.pk,
            "supplier": supplier.pk,
            "pdv": shop_a.pdv.pk,
            "variant": shop_a.variants["iva19"].pk,
        }
    return owner, ids


def test_every_form_control_on_the_pages_has_an_accessible_name(documents):
    owner, ids = documents
    unnamed, missing = {}, []
    for address, expected in PAGES:
        url = address.format(**ids)
        response = owner.get(url)
        assert response.status_code == 200, url
        controls = form_controls(response.content.decode())
        if not any(re.fullmatch(expected, control.get("name", "")) for control in controls):
            missing.append((url, expected))
        nameless = [
            f"<{control['tag']} name={control.get('name')!r}>"
            for control in controls
            if not has_accessible_name(control)
        ]
        if nameless:
            unnamed[url] = (len(nameless), nameless[:4])  # how many, and the first ones
    assert not missing, f"pages without the controls they are checked for: {missing}"
    assert not unnamed, f"form controls with no accessible name: {unnamed}"
