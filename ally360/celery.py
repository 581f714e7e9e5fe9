import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ally360.settings")

app = Celery("ally360", task_cls="ally360.tasks:TenantAwareTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
