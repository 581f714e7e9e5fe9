from django.db import models

from ally360.models import TenantModel


class Note(TenantModel):
    title = models.CharField(max_length=100)
    amount = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "title"], name="tenancy_test_note_title"),
        ]
