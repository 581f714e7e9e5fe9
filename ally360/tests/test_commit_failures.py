"""CommitFailureMiddleware answers commit-time failures, and only those."""

import pytest

pytestmark = pytest.mark.django_db


def test_an_integrity_error_raised_by_a_bug_inside_a_view_stays_a_500(
    owner_a, company_a, monkeypatch
):
    """The commit-failure middleware answers 409 only for a foreign key found broken at commit;
    another integrity error is a bug and stays an error page (500), not a 'try again'."""
    from products import services

    def buggy_brand_create(**data):
        from products.models import Brand

        return Brand.objects.create(name=None)  # a programming error: NOT NULL violated

    monkeypatch.setattr(services, "brand_create", buggy_brand_create)
    owner_a.raise_request_exception = False  # the answer an HTTP client gets
    response = owner_a.post("/api/v1/brands/", {"name": "Postobón"}, format="json")
    assert response.status_code == 500, (response.status_code, response.content)
