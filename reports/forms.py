"""Page forms of the reports: the period, validated as the API validates it."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ally360.forms import DateInput

from .api import MAX_DAYS


class PeriodForm(forms.Form):
    date_from = forms.DateField(label=_("From"), widget=DateInput())
    date_to = forms.DateField(label=_("To"), widget=DateInput())

    @classmethod
    def this_month(cls) -> dict:
        today = timezone.localdate()
        return {"date_from": today.replace(day=1).isoformat(), "date_to": today.isoformat()}

    def clean(self):
        data = super().clean()
        first, last = data.get("date_from"), data.get("date_to")
        if first and last:
            days = (last - first).days + 1
            if days < 1:
                self.add_error("date_to", _("The period ends before it starts."))
            elif days > MAX_DAYS:
                message = _("A report covers at most %(days)s days.") % {"days": MAX_DAYS}
                self.add_error("date_to", message)
        return data


class AsOfForm(forms.Form):
    """The day an aging report is read at the end of: today when empty (a past day rebuilds
    the balances of then, as the API's `?as_of=`)."""

    as_of = forms.DateField(label=_("As of"), required=False, widget=DateInput())
