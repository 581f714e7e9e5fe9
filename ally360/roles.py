"""Roles per company and the one declarative permission matrix (module x action -> roles).

The API permission class and the pages read this table; nothing else decides who may do what.
Object-level rules (a seller acts on their own documents and shift) live in the services.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Administrator")
    ACCOUNTANT = "accountant", _("Accountant")
    SELLER = "seller", _("Seller")
    VIEWER = "viewer", _("Viewer")


OWNER, ADMIN, ACCOUNTANT, SELLER, VIEWER = (
    Role.OWNER,
    Role.ADMIN,
    Role.ACCOUNTANT,
    Role.SELLER,
    Role.VIEWER,
)
EVERYONE = frozenset(Role)
MANAGERS = frozenset({OWNER, ADMIN})
BACK_OFFICE = frozenset({OWNER, ADMIN, ACCOUNTANT})
SALES = frozenset({OWNER, ADMIN, SELLER})

# read: list/retrieve; write: create/update; other verbs name custom actions.
PERMISSIONS: dict[str, dict[str, frozenset[str]]] = {
    "company": {"read": EVERYONE, "write": MANAGERS, "delete": frozenset({OWNER})},
    "members": {"read": MANAGERS, "write": MANAGERS},
    "invitations": {"read": MANAGERS, "write": MANAGERS},
    "contacts": {"read": EVERYONE, "write": BACK_OFFICE | {SELLER}, "delete": BACK_OFFICE},
    "pdvs": {"read": EVERYONE, "write": MANAGERS},
    "sellers": {"read": EVERYONE, "write": MANAGERS},
    "catalog": {"read": EVERYONE, "write": MANAGERS},
    # Field-level: unit costs, average costs and stock valuation.
    "costs": {"read": BACK_OFFICE},
    "stock": {"read": EVERYONE, "write": BACK_OFFICE},
    "numbering": {"read": BACK_OFFICE | {SELLER}, "write": MANAGERS},
    "invoices": {"read": EVERYONE, "write": SALES, "void": MANAGERS},
    "payments": {"read": EVERYONE, "write": SALES | {ACCOUNTANT}, "void": BACK_OFFICE},
    "credit_notes": {"read": EVERYONE, "write": BACK_OFFICE},
    "receivables": {"read": EVERYONE},
    "cash_registers": {"read": EVERYONE, "write": MANAGERS},
    "shifts": {"read": EVERYONE, "write": SALES, "manage_any": MANAGERS},
    "pos_sales": {"read": EVERYONE, "write": SALES},
    # Purchases carry costs: sellers have no access, viewers none either.
    "bills": {"read": BACK_OFFICE, "write": BACK_OFFICE, "void": BACK_OFFICE},
    "supplier_payments": {"read": BACK_OFFICE, "write": BACK_OFFICE, "void": BACK_OFFICE},
    "payables": {"read": BACK_OFFICE},
    "reports": {"read": BACK_OFFICE},
    "files": {"read": EVERYONE, "write": BACK_OFFICE | {SELLER}},
}


def has_permission(role: str | None, module: str, action: str) -> bool:
    if role is None:
        return False
    try:
        allowed = PERMISSIONS[module][action]
    except KeyError as exc:
        raise KeyError(f"No permission rule for {module}.{action}") from exc
    return role in allowed


def can_see_costs(role: str | None) -> bool:
    return has_permission(role, "costs", "read")
