"""A cross-tenant probe generated from the OpenAPI schema.

Company A holds a row of every kind. For every path and method of the schema, company B's owner
sends requests that carry A's ids: in the URL, and in every id field of the body and the query,
one field at a time (the other id fields hold B's own ids, so the request is otherwise valid).
Each such request answers 404 (id in the URL) or 400 (id in the body or query), never 2xx or
403, and a checksum of all of A's rows is the same before and after.
"""

import hashlib
import re
import uuid
from datetime import date

import pytest
from django.apps import apps
from django.urls import resolve

from accounts.models import Company, Invitation, Membership, OutboundEmail, User
from ally360.models import TenantModel
from ally360.tenancy import cross_tenant, tenant_context
from conftest import png_bytes
from files.tests.test_files_api import uploaded_file
from files.tests.test_uses import uploaded

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

PROBED = {"operations": 0, "requests": 0}

# Which model an id field names, by the field's name.
FIELD_MODELS = {
    "pdv": "pos.PDV",
    "origin": "pos.PDV",
    "destination": "pos.PDV",
    "customer": "contacts.Contact",
    "supplier": "contacts.Contact",
    "seller": "pos.Seller",
    "default_seller": "pos.Seller",
    "price_list": "products.PriceList",
    "default_price_list": "products.PriceList",
    "variant": "products.Variant",
    "product": "products.Product",
    "category": "products.Category",
    "parent": "products.Category",
    "brand": "products.Brand",
    "unit": "products.Unit",
    "taxes": "products.Tax",
    "invoice": "invoices.Invoice",
    "invoice_line": "invoices.InvoiceLine",
    "bill": "bills.Bill",
    "bills": "bills.Bill",
    "bill_line": "bills.BillLine",
    "register": "pos.CashRegister",
    "shift": "pos.Shift",
    "refund_shift": "pos.Shift",
    "concept": "bills.WithholdingConcept",
    "concepts": "bills.WithholdingConcept",
    "file": "files.FileObject",
    "user": "accounts.User",
    "allowed_users": "accounts.User",
    "company_id": "accounts.Company",
    "reference_id": None,
}
# Another company's id answers 404 in a URL and 400 in a body or query; never 403, which would
# confirm it exists. Choosing a company is addressing it, so an unknown one is a 404 there too.
SELECTS_A_COMPANY = {("/api/v1/auth/select-company", "company_id"): 404}
# Where a URL's {id} and {product_pk} point when the view's model does not say it.

URL_MODELS = {
    "members": "accounts.Membership",
    "invitations": "accounts.Invitation",
    "receivables": "invoices.Invoice",
    "payables": "bills.Bill",
}
# A URL that names a child and its parent takes both from one child row, so the pair belongs
# together (a random pairing would answer 404 for the wrong reason): the child's model, and the
# column each URL parameter reads from it.
NESTED_URLS = {
    "/api/v1/products/{product_pk}/images/{id}/": (
        "products.ProductImage",
        {"product_pk": "product_id", "id": "pk"},
    ),
    "/api/v1/price-lists/{id}/items/{item_id}/": (
        "products.PriceListItem",
        {"id": "price_list_id", "item_id": "pk"},
    ),
    **{
        f"/api/v1/{module}/{{record_pk}}/attachments/{{id}}/": (
            "files.FileObject",
            {"record_pk": "record_id", "id": "pk"},
            {"module": module, "record_id__isnull": False},
        )
        for module in ("invoices", "bills", "contacts")
    },
}


def build_world(company, owner, make_shop, label):
    """One row of every kind for `company`, made through the API like a real shop would."""
    shop = make_shop(company, prefix=label)
    get = lambda r: r.json()  # noqa: E731
    norte = get(owner.post("/api/v1/pdvs/", {"name": "Norte", "code": f"N{label}"}, format="json"))
    owner.patch(
        f"/api/v1/pdvs/{norte['id']}/", {"allowed_users": [str(owner.user.id)]}, format="json"
    )
    get(owner.post("/api/v1/sellers/", {"name": f"Vendedor {label}"}, format="json"))
    get(owner.post("/api/v1/categories/", {"name": "Cat"}, format="json"))
    get(owner.post("/api/v1/brands/", {"name": "Marca"}, format="json"))
    fixed = get(
        owner.post("/api/v1/price-lists/", {"name": "Fija", "kind": "fixed"}, format="json")
    )
    owner.post(
        f"/api/v1/price-lists/{fixed['id']}/items",
        {"variant": shop.v("iva19"), "price": "900"},
        format="json",
    )
    owner.post(
        "/api/v1/adjustments/",
        {
            "pdv": str(shop.pdv.id),
            "reason": "count",
            "lines": [{"variant": shop.v("iva19"), "delta": "1"}],
        },
        format="json",
    )
    owner.post(
        "/api/v1/transfers/",
        {
            "origin": str(shop.pdv.id),
            "destination": norte["id"],
            "lines": [{"variant": shop.v("iva5"), "quantity": "1"}],
        },
        format="json",
    )
    invoice = get(
        owner.post(
            "/api/v1/invoices/",
            {
                "pdv": str(shop.pdv.id),
                "customer": str(shop.customer.id),
                "issue": True,
                "lines": [{"variant": shop.v("iva19"), "quantity": "3"}],
            },
            format="json",
        )
    )
    owner.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        {"method": "cash", "amount": "100"},
        format="json",
    )
    owner.post(
        "/api/v1/credit-notes/",
        {
            "invoice": invoice["id"],
            "concept": "1",
            "reason": "r",
            "return_stock": True,
            "lines": [{"invoice_line": invoice["lines"][0]["id"], "quantity": "1"}],
        },
        format="json",
    )
    with tenant_context(company):
        from contacts.models import Contact

        supplier = Contact.objects.create(
            id_type="13", id_number=f"77{label}", name="Prov", is_supplier=True, is_customer=False
        )
    bill = get(
        owner.post(
            "/api/v1/bills/",
            {
                "supplier": str(supplier.id),
                "pdv": str(shop.pdv.id),
                "supplier_invoice_number": "F1",
                "issue": True,
                "lines": [{"variant": shop.v("iva19"), "quantity": "5", "unit_cost": "500"}],
            },
            format="json",
        )
    )
    concept = get(owner.get("/api/v1/withholding-concepts/"))["results"][0]
    owner.post(
        "/api/v1/supplier-payments/",
        {
            "supplier": str(supplier.id),
            "method": "cash",
            "allocations": [{"bill": bill["id"], "amount": "1000"}],
            "withholdings": [
                {"bill": bill["id"], "concept": concept["id"], "base": "1", "amount": "1"}
            ],
        },
        format="json",
    )
    owner.post(
        "/api/v1/debit-notes/",
        {
            "bill": bill["id"],
            "reason": "r",
            "lines": [{"bill_line": bill["lines"][0]["id"], "quantity": "1"}],
        },
        format="json",
    )
    shift = get(
        owner.post(
            "/api/v1/shifts/",
            {"register": str(shop.register.id), "opening_cash": "1000"},
            format="json",
        )
    )
    owner.post(
        f"/api/v1/shifts/{shift['id']}/cash-movements",
        {"kind": "in", "amount": "10", "reason": "r"},
        format="json",
    )
    owner.post(
        "/api/v1/pos/sales/",
        {
            "lines": [{"variant": shop.v("iva5"), "quantity": "1"}],
            "tenders": [{"method": "cash", "amount": "5000"}],
        },
        format="json",
    )
    product_id = shop.variants["iva19"].product_id
    owner.post(
        f"/api/v1/products/{product_id}/images",
        {"file": uploaded(owner, png_bytes())},
        format="json",
    )
    for kind, record in (
        ("invoices", invoice["id"]),
        ("bills", bill["id"]),
        ("contacts", str(supplier.id)),
    ):
        owner.post(
            f"/api/v1/{kind}/{record}/attachments",
            {"file": uploaded_file(owner, kind)},
            format="json",
        )
    owner.post(
        "/api/v1/invitations/",
        {"email": f"invitado{label}@example.co", "role": "viewer"},
        format="json",
    )
    return shop


def ids_by_model(company) -> dict[str, list]:
    """Every row id of `company`, by model label."""
    found: dict[str, list] = {}
    with cross_tenant():
        for model in apps.get_models():
            if issubclass(model, TenantModel):
                found[model._meta.label] = list(
                    model.all_tenants.filter(tenant_id=company.id)
                    .values_list("pk", flat=True)
                    .order_by("pk")
                )
    found["accounts.Company"] = [company.id]
    found["accounts.Membership"] = list(
        Membership.objects.filter(company=company).values_list("pk", flat=True)
    )
    found["accounts.Invitation"] = list(
        Invitation.objects.filter(company=company).values_list("pk", flat=True)
    )
    found["accounts.User"] = list(
        User.objects.filter(memberships__company=company).values_list("pk", flat=True)
    )
    return found


def checksum(company) -> str:
    digest = hashlib.sha256()
    with cross_tenant():
        for model in sorted(apps.get_models(), key=lambda m: m._meta.label):
            if issubclass(model, TenantModel):
                for row in model.all_tenants.filter(tenant_id=company.id).order_by("pk").values():
                    digest.update(repr(sorted(row.items())).encode())
    for queryset in (
        Company.objects.filter(pk=company.pk),
        Membership.objects.filter(company=company).order_by("pk"),
        Invitation.objects.filter(company=company).order_by("pk"),
        OutboundEmail.objects.filter(company=company).order_by("pk"),
        User.objects.filter(memberships__company=company).order_by("pk"),
    ):
        for row in queryset.values():
            digest.update(repr(sorted(row.items())).encode())
    return digest.hexdigest()


def url_model(path: str) -> str | None:
    """The model a URL's `{id}` names: the view's (its record's, for a record's
    attachments), unless URL_MODELS says otherwise."""
    view = getattr(resolve(re.sub(r"{\w+}", str(uuid.uuid4()), path)).func, "cls", None)
    model = getattr(view, "record_model", None) or getattr(view, "model", None)
    return URL_MODELS.get(path.split("/")[3], model._meta.label if model else None)


def path_ids(path: str, company, ids: dict, fallback: dict | None = None) -> dict:
    """The URL parameters of `path` filled with ids of `company` (`ids`: its ids by model, as
    `ids_by_model` gives them; `fallback` where it has none): a nested URL's parent and child
    from one row."""
    params = re.findall(r"{(\w+)}", path)
    assert len(params) < 2 or path in NESTED_URLS, f"say how {path} pairs its ids"
    if path in NESTED_URLS:
        label, columns, *among = NESTED_URLS[path]  # among: which rows are the URL's children
        with cross_tenant():
            row = (
                apps.get_model(label)
                .all_tenants.filter(tenant_id=company.id, **(among[0] if among else {}))
                .order_by("pk")
                .values(*columns.values())
                .first()
            )
        assert row, f"the world of {company.name} has no {label}"
        return {param: row[column] for param, column in columns.items()}
    model_label = url_model(path) if params else None
    values = {}
    for param in params:
        label = "products.Product" if param == "product_pk" else model_label
        values[param] = (ids.get(label) or (fallback or {}).get(label) or [uuid.uuid4()])[0]
    return values


def fill_path(path: str, values: dict) -> str:
    for param, value in values.items():
        path = path.replace("{" + param + "}", str(value))
    return path


def id_lookup(ids: dict):
    """name of an id field -> one id of the model it names (a random one when unknown)."""

    def id_of(name):
        label = FIELD_MODELS.get(name)
        return (ids.get(label) or [uuid.uuid4()])[0] if label else uuid.uuid4()

    return id_of


def schema_operations(spec):
    """(path, method, operation, JSON body schema or None) for every operation of the schema."""
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            if method in ("get", "post", "put", "patch", "delete"):
                body = (
                    operation.get("requestBody", {})
                    .get("content", {})
                    .get("application/json", {})
                    .get("schema")
                )
                yield path, method, operation, body


class Payloads:
    """Request bodies from the schema: id fields get ids of the right model, the rest plausible
    values."""

    def __init__(self, spec):
        self.components = spec["components"]["schemas"]

    def resolve(self, schema):
        while "$ref" in schema:
            schema = self.components[schema["$ref"].rsplit("/", 1)[1]]
        for key in ("allOf", "oneOf", "anyOf"):
            if key in schema:
                options = [s for s in schema[key] if s.get("type") != "null"]
                return self.resolve(options[0]) if options else {"type": "string"}
        return schema

    def id_paths(self, schema, prefix=()):
        """Paths to every id field (format uuid, or arrays of them) with the field's name."""
        schema = self.resolve(schema)
        if schema.get("type") == "object" or "properties" in schema:
            for name, prop in schema.get("properties", {}).items():
                if self.resolve(prop).get("readOnly") or prop.get("readOnly"):
                    continue
                yield from self.id_paths(prop, (*prefix, name))
        elif schema.get("type") == "array":
            items = self.resolve(schema.get("items", {}))
            if items.get("format") == "uuid":
                yield (*prefix, 0), prefix[-1]
            else:
                yield from self.id_paths(items, (*prefix, 0))
        elif schema.get("format") == "uuid" and prefix:
            yield prefix, prefix[-1]

    def value(self, schema, name, ids):
        schema = self.resolve(schema)
        kind = schema.get("type")
        if schema.get("format") == "uuid":
            return str(ids(name))
        if "enum" in schema:
            return next((v for v in schema["enum"] if v), schema["enum"][0])
        if kind == "object" or "properties" in schema:
            return {
                prop_name: self.value(prop, prop_name, ids)
                for prop_name, prop in schema.get("properties", {}).items()
                if not prop.get("readOnly")
            }
        if kind == "array":
            return [self.value(schema.get("items", {}), name, ids)]
        if kind == "boolean":
            return False
        if kind in ("integer", "number"):
            return 1
        if schema.get("format") == "date":
            return str(date.today())
        if schema.get("format") == "email":
            return "probe@example.co"
        if schema.get("format") == "decimal":
            return "1"
        return "probe"


def refused_for(response, where: str) -> bool:
    """Whether a 400 names the probed field (`error.fields`, nested as the body is): `lines.0.
    variant`, a query parameter `?pdv`, or a list of ids (`taxes` for `taxes.0`)."""
    named = set()

    def walk(fields, prefix):
        for key, value in fields.items():
            named.add(prefix + key)
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}.")

    walk(response.json().get("error", {}).get("fields", {}), "")
    where = where.lstrip("?")
    parent, _, last = where.rpartition(".")
    return where in named or (last.isdigit() and parent in named)


def set_path(body, path, value):
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value


def test_no_request_of_b_carrying_a_ids_succeeds_or_changes_a(
    company_a, company_b, make_shop, owner_a, owner_b, settings
):
    settings.API_RATE_LIMIT = "100000/m"
    build_world(company_a, owner_a, make_shop, "FA")
    build_world(company_b, owner_b, make_shop, "FB")
    a_ids, b_ids = ids_by_model(company_a), ids_by_model(company_b)
    for label, ids in a_ids.items():
        if label.split(".")[0] in (
            "pos",
            "products",
            "contacts",
            "inventory",
            "invoices",
            "bills",
            "files",
        ):
            assert ids, f"the world of A has no {label}"
    before = checksum(company_a)
    spec = owner_b.get("/api/v1/schema/?format=json").json()
    payloads = Payloads(spec)
    violations, operations, requests, controls = [], 0, 0, []

    a_id, b_id = id_lookup(a_ids), id_lookup(b_ids)

    for path, method, operation, body_schema in schema_operations(spec):
        operations += 1
        url_params = re.findall(r"{(\w+)}", path)

        def url_with(ids_source, other, company):
            return fill_path(path, path_ids(path, company, ids_source, other))

        # Id filters by name too: some are typed as plain strings in the schema.
        query_ids = [
            p["name"]
            for p in operation.get("parameters", [])
            if p.get("in") == "query"
            and (p.get("schema", {}).get("format") == "uuid" or p["name"] in FIELD_MODELS)
        ]
        attempts = []
        b_body = payloads.value(body_schema, "", b_id) if body_schema else None
        if url_params:
            a_url, b_url = url_with(a_ids, b_ids, company_a), url_with(b_ids, a_ids, company_b)
            attempts.append(("url", a_url, b_body, {}))
            if method != "delete":  # the control: B's own ids find B's row
                controls.append((method, path, b_url, b_body))
        if body_schema:
            for id_path, name in payloads.id_paths(body_schema):
                if FIELD_MODELS.get(name) is None:
                    continue
                body = payloads.value(body_schema, "", b_id)
                set_path(body, id_path, str(a_id(name)))
                attempts.append(
                    (".".join(map(str, id_path)), url_with(b_ids, a_ids, company_b), body, {})
                )
        for name in query_ids:
            if FIELD_MODELS.get(name) is None:
                continue
            attempts.append(
                (
                    f"?{name}",
                    url_with(b_ids, a_ids, company_b) if url_params else path,
                    None,
                    {name: str(a_id(name))},
                )
            )
        for where, url, body, query in attempts:
            requests += 1
            call = getattr(owner_b, method)
            if method == "get":
                response = call(url, query)
            else:
                response = call(
                    url + (("?" + "&".join(f"{k}={v}" for k, v in query.items())) if query else ""),
                    body,
                    format="json",
                )
            expected = 404 if where == "url" else SELECTS_A_COMPANY.get((path, where), 400)
            if response.status_code != expected:
                violations.append(
                    f"{method.upper()} {path} with A's id in {where}: "
                    f"{response.status_code} (expected {expected}) {response.content[:160]!r}"
                )
            elif expected == 400 and not refused_for(response, where):
                # Refused, but for something else: the probed id was not what stopped it.
                violations.append(
                    f"{method.upper()} {path} with A's id in {where}: refused for "
                    f"{response.content[:200]!r}"
                )

    for method, path, url, body in controls:
        call = getattr(owner_b, method)
        response = call(url) if method == "get" else call(url, body, format="json")
        if response.status_code == 404:
            violations.append(f"{method.upper()} {path} with B's own ids: 404 (the control)")

    PROBED.update(operations=operations, requests=requests)
    print(f"cross-tenant probe: {operations} operations, {requests} requests")
    assert not violations, "\n".join(violations)
    assert checksum(company_a) == before
    assert requests > operations  # the probe really sent A's ids
