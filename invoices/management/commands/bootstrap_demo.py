"""Create the demo company, its owner and its demo shop on first run (used by `make run`).

Here, not in `accounts`, because the shop (numbering, register, products, a customer) comes
from the apps above accounts (`invoices.demo`)."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Company, User
from accounts.services import company_create, normalize_email
from invoices.demo import DEMO_PRODUCTS, demo_shop_create

DEMO_EMAIL = "demo@ally360.co"
DEMO_PASSWORD = "Demo-Ally360-2026"
DEMO_NIT = "900123456"


class Command(BaseCommand):
    help = (
        "Create a demo company (numbering, a register, products in stock, a customer) with an "
        "owner user if none exists, and print the login."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", default=DEMO_EMAIL)
        parser.add_argument("--password", default=DEMO_PASSWORD)

    @transaction.atomic
    def handle(self, *args, email, password, **options):
        email = normalize_email(email)  # stored lowercased: look it up the same way
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email,
                password=password,
                first_name="Demo",
                last_name="Ally360",
                email_verified_at=timezone.now(),
            )
            self.stdout.write(self.style.SUCCESS(f"Created the demo user {email}."))
        if not Company.objects.filter(memberships__user=user).exists():
            company = company_create(
                owner=user, name="Tienda Demo", nit=DEMO_NIT, city="Bogotá", email=email
            )
            demo_shop_create(company=company, user=user)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created the demo company {company.name}: numbering (a made-up resolution), "
                    f"Caja 1, {len(DEMO_PRODUCTS)} products in stock and a customer."
                )
            )
        base = settings.FRONTEND_URL.rstrip("/")  # this server, as `make run` sets it
        self.stdout.write(
            "\n  Demo login (local use only):\n"
            f"    e-mail:   {email}\n"
            f"    password: {password}\n"
            f"  Pages:   {base}/ (the counter: /pos/; scan 7709990000011)\n"
            f"  API:     {base}/api/v1/…   Swagger UI: {base}/docs\n"
            f"  Admin:   {base}/admin/ (create staff with `manage.py createsuperuser`)\n"
        )
