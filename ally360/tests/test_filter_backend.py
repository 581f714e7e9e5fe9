"""The filter backend skips the FilterSet when the request names none of its filters; this holds
only if every key a filter's widget reads is recognised as naming it."""

import pytest
from django.forms import MultiWidget
from django.urls import get_resolver

from ally360.api.filters import TenantFilterBackend, _names_a_filter


def _viewsets(patterns):
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            yield from _viewsets(pattern.url_patterns)
        else:
            cls = getattr(pattern.callback, "cls", None)
            if cls is not None:
                yield cls


def project_filtersets():
    """Every FilterSet the API uses: declared (`filterset_class`) or built by django-filter
    from `filterset_fields`."""
    found = {}
    for view_class in _viewsets(get_resolver().url_patterns):
        model = getattr(view_class, "model", None)
        if model is None:
            continue
        view = view_class()
        built = TenantFilterBackend().get_filterset_class(view, model._base_manager.none())
        if built is None:
            continue
        declared = getattr(view_class, "filterset_class", None) is not None
        found[built.__qualname__ if declared else f"{view_class.__name__} fields"] = built

    return [found[label] for label in sorted(found)]


def widget_keys(name, widget):
    if isinstance(widget, MultiWidget):
        return [f"{name}{suffix}" for suffix in widget.widgets_names]
    if hasattr(widget, "suffixes"):  # django-filter's SuffixedMultiWidget
        return [widget.suffixed(name, suffix) for suffix in widget.suffixes]
    return [name]


def test_the_project_has_filtersets():
    assert len(project_filtersets()) >= 10


@pytest.mark.parametrize("filterset_class", project_filtersets(), ids=lambda c: c.__qualname__)
def test_every_key_a_filter_reads_names_it(filterset_class):
    form = filterset_class().form
    for name, field in form.fields.items():
        for key in widget_keys(name, field.widget):
            assert _names_a_filter(filterset_class, {key: "x"}), (filterset_class, key)


@pytest.mark.parametrize("filterset_class", project_filtersets(), ids=lambda c: c.__qualname__)
def test_paging_and_unrelated_parameters_name_no_filter(filterset_class):
    params = {"limit": "5", "offset": "5", "cursor": "x", "search": "a", "ordering": "name"}
    assert not _names_a_filter(filterset_class, {"unrelated": "1"})
    clashing = [key for key in params if _names_a_filter(filterset_class, {key: "1"})]
    # A filter named like a paging parameter would shadow it; none is.
    assert clashing == []


@pytest.mark.django_db
def test_offset_pages_of_tied_rows_neither_skip_nor_repeat_and_bad_yes_no_values_are_refused(
    owner_a, company_a, make_product
):
    """The stock list sorts by SKU: one variant stocked at many points of sale ties on it. The
    id ends every order, so walking the pages meets each row once."""
    from ally360.tenancy import tenant_context
    from pos.models import PDV

    product = make_product(company_a, sku="TIE-1")
    with tenant_context(company_a):
        for n in range(40):
            PDV.objects.create(name=f"Punto {n}", code=f"P{n:02}")
        from inventory.models import Stock
        from products.models import Variant

        variant = Variant.objects.get(product=product)
        Stock.objects.bulk_create(
            Stock(variant=variant, pdv=pdv) for pdv in PDV.objects.exclude(is_main=True)
        )
        total = Stock.objects.filter(variant=variant).count()
    for ordering in ("", "quantity", "-updated_at"):
        seen = []
        for offset in range(0, total, 7):
            page = owner_a.get(
                "/api/v1/stock/",
                {
                    "variant": str(variant.id),
                    "limit": 7,
                    "offset": offset,
                    **({"ordering": ordering} if ordering else {}),
                },
            )
            assert page.status_code == 200, page.json()
            seen += [row["id"] for row in page.json()["results"]]
        assert len(seen) == len(set(seen)) == total, ordering
    for url in ("/api/v1/stock/?low=yes", "/api/v1/contacts/?is_customer=perhaps"):
        assert owner_a.get(url).status_code == 400, url
    assert owner_a.get("/api/v1/stock/?low=true").status_code == 200
    # 1/0 and any case are read, not ignored: an inactive contact is found by each spelling.
    from contacts.models import Contact

    with tenant_context(company_a):
        Contact.objects.create(id_type="13", id_number="5556667", name="Dormido", is_active=False)
    for spelling in ("0", "false", "FALSE"):
        names = [
            row["name"]
            for row in owner_a.get(f"/api/v1/contacts/?is_active={spelling}").json()["results"]
        ]
        assert names == ["Dormido"], spelling


@pytest.mark.django_db
def test_lists_without_an_ordering_of_their_own_end_the_models_order_with_the_id(
    owner_a, company_a
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert owner_a.get("/api/v1/contacts/").status_code == 200
    page = next(q["sql"] for q in queries.captured_queries if "LIMIT" in q["sql"])
    assert page.rstrip().split("ORDER BY", 1)[1].split("LIMIT")[0].rstrip().endswith('"id" ASC')


@pytest.mark.django_db
def test_bad_paging_and_ordering_parameters_are_a_400_naming_them(owner_a, shop_a):
    """DRF quietly uses its defaults for a bad `limit` or `offset` and drops an unknown
    ordering term, so a client's typo answers a different page or order; a malformed cursor is
    its 404. Each is a 400 naming the parameter."""
    owner_a.post(
        "/api/v1/invoices/",
        {
            "pdv": str(shop_a.pdv.id),
            "customer": str(shop_a.customer.id),
            "lines": [{"variant": shop_a.v("iva19"), "quantity": "1"}],
        },
        format="json",
    )
    cases = (
        [
            ("/api/v1/contacts/", {"limit": value}, "limit")
            for value in ("abc", "-5", "0", "1.5", "²")
        ]
        + [
            ("/api/v1/contacts/", {"offset": value}, "offset")
            for value in ("abc", "-1", str(10**16))
        ]
        + [
            ("/api/v1/contacts/", {"ordering": "password"}, "ordering"),
            ("/api/v1/contacts/", {"ordering": "name,-nope"}, "ordering"),
            ("/api/v1/invoices/", {"limit": "abc"}, "limit"),
            ("/api/v1/invoices/", {"cursor": "%%%garbage"}, "cursor"),
            ("/api/v1/invoices/", {"ordering": "-total"}, "ordering"),
            ("/api/v1/bills/", {"ordering": "number"}, "ordering"),
            ("/api/v1/payments/", {"ordering": "amount"}, "ordering"),
            ("/api/v1/bills/", {"cursor": "\xff"}, "cursor"),
        ]
    )
    for url, params, name in cases:
        response = owner_a.get(url, params)
        assert response.status_code == 400, (url, params, response.status_code)
        assert name in response.json()["error"]["fields"], (url, params)
    # Good values still page, a large limit is capped, and the cursor lists keep their order.
    assert owner_a.get("/api/v1/contacts/", {"limit": "1000", "offset": "0"}).status_code == 200
    assert owner_a.get("/api/v1/contacts/", {"ordering": "-name, created_at"}).status_code == 200
    assert owner_a.get("/api/v1/invoices/", {"limit": "1"}).json()["results"]
