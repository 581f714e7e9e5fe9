"""With Redis down the API still answers: caches degrade to the database and rate limits fail
open (the documented behaviour), each failure logged."""

import logging

import pytest

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from ally360.settings import cache_config
from conftest import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {"default": cache_config(f"redis://127.0.0.1:{free_port()}/0")}
    settings.RATELIMIT_ENABLE = True


def test_logins_and_company_requests_work_and_limits_fail_open(redis_down, api, owner_a, caplog):
    user = UserFactory()
    with caplog.at_level(logging.ERROR, logger="ally360.cache"):
        statuses = [
            api.post(
                "/api/v1/auth/login", {"email": user.email, "password": "wrong"}, format="json"
            ).status_code
            for _ in range(12)
        ]
        assert statuses == [400] * 12  # no 429: the counters cannot be kept
        ok = api.post(
            "/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
        )
        assert ok.status_code == 200
        # Membership checks fall back to the database on every request.
        assert owner_a.get("/api/v1/companies/current/").status_code == 200
        assert owner_a.get("/api/v1/contacts/").status_code == 200
    assert any("Connection" in record.getMessage() or record.exc_info for record in caplog.records)


def test_catalog_pages_are_read_from_the_database_with_redis_down(
    redis_down, owner_a, company_a, make_product
):
    """No generation can be read: every page is read afresh, and writes still show."""
    product = make_product(company_a, name="Arroz", stock={None: 2})
    assert owner_a.get("/api/v1/products/").json()["results"][0]["name"] == "Arroz"
    renamed = owner_a.patch(f"/api/v1/products/{product.id}/", {"name": "Arroz Roa"}, format="json")
    assert renamed.status_code == 200, renamed.json()
    assert owner_a.get("/api/v1/products/").json()["results"][0]["name"] == "Arroz Roa"


def test_a_pos_sale_goes_through_with_redis_down(shop_a, seller_a, redis_down):
    """The counter keeps selling: shift, sale with change, and the sale is in the shift report."""
    shift = seller_a.post(
        "/api/v1/shifts/",
        {"register": str(shop_a.register.id), "opening_cash": "50000"},
        format="json",
    )
    assert shift.status_code == 201, shift.json()
    sale = seller_a.post(
        "/api/v1/pos/sales/",
        {
            "lines": [{"variant": shop_a.v("iva19"), "quantity": "1"}],
            "tenders": [{"method": "cash", "amount": "20000"}],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="redis-down-sale-1",
    )
    assert sale.status_code == 201, sale.json()
    assert (sale.json()["invoice"]["status"], sale.json()["change"]) == ("paid", "8100.00")
    report = seller_a.get(f"/api/v1/shifts/{shift.json()['id']}/report")
    assert report.status_code == 200
    assert report.json()["cash"]["expected"] == "61900.00"


def test_a_membership_change_waits_for_redis(settings, owner_a, company_a, client_as):
    """A removal the role cache could not record would let the removed member in for minutes
    once Redis answers again: with Redis down it is refused, and nothing changes."""
    from accounts.models import Membership
    from ally360.roles import Role

    seller = client_as(company_a, Role.SELLER)
    membership = Membership.objects.get(user=seller.user, company=company_a)
    settings.CACHES = {"default": cache_config(f"redis://127.0.0.1:{free_port()}/0")}
    refused = owner_a.delete(f"/api/v1/members/{membership.id}/")
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "cache_unavailable"
    assert Membership.objects.filter(pk=membership.pk, is_active=True).exists()


def test_a_back_office_membership_change_with_the_cache_down_is_refused_with_a_message(
    settings, company_a, client_as
):
    """The back-office keeps the API's rule (a role change the cache cannot record is not
    made) and says so on the page, for an edit, a deletion and the bulk deletion alike."""
    from django.contrib.messages import constants, get_messages

    from accounts.models import Membership
    from ally360.roles import Role
    from ally360.tests.test_admin import admin_url, posted_form, staff_client

    seller = client_as(company_a, Role.SELLER)
    membership = Membership.objects.get(user=seller.user, company=company_a)
    staff = staff_client()
    change = admin_url(Membership, f"{membership.pk}/change/")
    form = posted_form(staff.get(change), role="viewer")
    settings.CACHES = {"default": cache_config(f"redis://127.0.0.1:{free_port()}/0")}
    for url, data in (
        (change, form),
        (admin_url(Membership, f"{membership.pk}/delete/"), {"post": "yes"}),
        (
            admin_url(Membership, ""),
            {"action": "delete_selected", "_selected_action": [str(membership.pk)], "post": "yes"},
        ),
    ):
        answer = staff.post(url, data)
        assert answer.status_code == 302, (url, answer.status_code)
        errors = [m for m in get_messages(answer.wsgi_request) if m.level == constants.ERROR]
        assert errors, url
        membership.refresh_from_db()
        assert (membership.role, membership.is_active) == (Role.SELLER, True)
