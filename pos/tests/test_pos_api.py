"""pdvs/ and sellers/: the main point of sale, deletion rules, roles and isolation."""

import pytest

from accounts.tests.factories import UserFactory
from ally360.roles import Role
from ally360.tenancy import tenant_context
from conftest import ALL_ROLES, error_code
from pos.models import PDV, Seller

pytestmark = pytest.mark.django_db

MANAGERS = {Role.OWNER, Role.ADMIN}


def test_a_new_company_has_exactly_one_main_pdv(owner_a):
    pdvs = owner_a.get("/api/v1/pdvs/").json()["results"]
    assert [(p["code"], p["is_main"]) for p in pdvs] == [("PRINCIPAL", True)]


def test_switching_the_main_pdv_keeps_exactly_one(owner_a, company_a):
    norte = owner_a.post("/api/v1/pdvs/", {"name": "Norte", "code": "n01"}, format="json")
    assert norte.status_code == 201 and norte.json()["code"] == "N01"
    assert norte.json()["is_main"] is False
    made_main = owner_a.patch(
        f"/api/v1/pdvs/{norte.json()['id']}/", {"is_main": True}, format="json"
    )
    assert made_main.json()["is_main"] is True
    with tenant_context(company_a):
        assert list(PDV.objects.filter(is_main=True).values_list("code", flat=True)) == ["N01"]
    unset = owner_a.patch(f"/api/v1/pdvs/{norte.json()['id']}/", {"is_main": False}, format="json")
    assert unset.status_code == 409 and error_code(unset) == "main_pdv"
    deactivate = owner_a.patch(
        f"/api/v1/pdvs/{norte.json()['id']}/", {"is_active": False}, format="json"
    )
    assert deactivate.status_code == 409
    assert owner_a.delete(f"/api/v1/pdvs/{norte.json()['id']}/").status_code == 409


def test_pdv_code_is_unique_per_company(owner_a, owner_b):
    assert (
        owner_a.post("/api/v1/pdvs/", {"name": "Sur", "code": "S1"}, format="json").status_code
        == 201
    )
    duplicate = owner_a.post("/api/v1/pdvs/", {"name": "Sur 2", "code": "s1"}, format="json")
    assert duplicate.status_code == 409 and error_code(duplicate) == "duplicate"
    assert (
        owner_b.post("/api/v1/pdvs/", {"name": "Sur", "code": "S1"}, format="json").status_code
        == 201
    )


def test_a_used_pdv_is_deactivated_not_deleted_once_its_stock_is_out(
    owner_a, company_a, make_product
):
    """A point of sale with a history is closed, not deleted; not while it holds stock, which
    an inactive one could never move or count out (409 `pdv_has_stock`)."""
    sur = owner_a.post("/api/v1/pdvs/", {"name": "Sur", "code": "S1"}, format="json").json()
    empty = owner_a.post("/api/v1/pdvs/", {"name": "Vacío", "code": "V1"}, format="json").json()
    with tenant_context(company_a):
        product = make_product(company_a, stock={PDV.objects.get(pk=sur["id"]): 5})
        variant = str(product.variants.get().id)
        main = str(PDV.objects.get(is_main=True).id)
    response = owner_a.delete(f"/api/v1/pdvs/{sur['id']}/")
    assert response.status_code == 409 and error_code(response) == "in_use"
    closing = owner_a.patch(f"/api/v1/pdvs/{sur['id']}/", {"is_active": False}, format="json")
    assert closing.status_code == 409 and error_code(closing) == "pdv_has_stock"
    moved = owner_a.post(
        "/api/v1/transfers/",
        {
            "origin": sur["id"],
            "destination": main,
            "lines": [{"variant": variant, "quantity": "5"}],
        },
        format="json",
    )
    assert moved.status_code == 201, moved.json()
    closed = owner_a.patch(f"/api/v1/pdvs/{sur['id']}/", {"is_active": False}, format="json")
    assert closed.status_code == 200 and closed.json()["is_active"] is False
    assert owner_a.delete(f"/api/v1/pdvs/{sur['id']}/").status_code == 409  # its history stays
    assert owner_a.delete(f"/api/v1/pdvs/{empty['id']}/").status_code == 204


@pytest.mark.parametrize("role", ALL_ROLES)
def test_pdv_and_seller_roles(company_a, client_as, role):
    client = client_as(company_a, role)
    allowed = role in MANAGERS
    assert client.get("/api/v1/pdvs/").status_code == 200
    assert client.get("/api/v1/sellers/").status_code == 200
    pdv = client.post("/api/v1/pdvs/", {"name": "Norte", "code": "N1"}, format="json")
    seller = client.post("/api/v1/sellers/", {"name": "Luisa"}, format="json")
    assert pdv.status_code == seller.status_code == (201 if allowed else 403)
    with tenant_context(company_a):
        assert PDV.objects.filter(code="N1").exists() is allowed
        assert Seller.objects.filter(name="Luisa").exists() is allowed
        target = Seller.objects.first() or Seller.objects.create(name="Seed")
    assert client.patch(
        f"/api/v1/sellers/{target.id}/", {"commission_pct": "2.5"}, format="json"
    ).status_code == (200 if allowed else 403)
    assert client.delete(f"/api/v1/sellers/{target.id}/").status_code == (204 if allowed else 403)


def test_seller_linked_user_must_be_a_member(owner_a, company_a, company_b, make_member):
    member = make_member(company_a, Role.SELLER)
    outsider = make_member(company_b, Role.SELLER)
    stranger = UserFactory()
    ok = owner_a.post(
        "/api/v1/sellers/",
        {"name": "Luisa", "user": str(member.id), "commission_pct": "3.50"},
        format="json",
    )
    assert ok.status_code == 201 and ok.json()["commission_pct"] == "3.50"
    twice = owner_a.post(
        "/api/v1/sellers/", {"name": "Luisa 2", "user": str(member.id)}, format="json"
    )
    assert twice.status_code == 409
    for user in (outsider, stranger):
        refused = owner_a.post(
            "/api/v1/sellers/", {"name": "X", "user": str(user.id)}, format="json"
        )
        assert refused.status_code == 400
        assert "user" in refused.json()["error"]["fields"]
    too_much = owner_a.post(
        "/api/v1/sellers/", {"name": "Y", "commission_pct": "101"}, format="json"
    )
    assert too_much.status_code == 400
    with tenant_context(company_a):
        assert Seller.objects.count() == 1


def test_another_companys_pdv_and_seller_are_not_found(owner_a, owner_b, company_b):
    pdv_b = owner_b.get("/api/v1/pdvs/").json()["results"][0]
    seller_b = owner_b.post("/api/v1/sellers/", {"name": "B"}, format="json").json()
    for url in (f"/api/v1/pdvs/{pdv_b['id']}/", f"/api/v1/sellers/{seller_b['id']}/"):
        assert owner_a.get(url).status_code == 404
        assert owner_a.patch(url, {"name": "hack"}, format="json").status_code == 404
        assert owner_a.delete(url).status_code == 404
    with tenant_context(company_b):
        assert PDV.objects.get(pk=pdv_b["id"]).name == "Principal"
        assert Seller.objects.get(pk=seller_b["id"]).name == "B"
