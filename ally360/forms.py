"""Form pieces the pages share."""

from django import forms


class DateInput(forms.DateInput):
    """A browser's date picker. Its value is ISO (yyyy-mm-dd) whatever the page's language: a
    Spanish page's "07/12/2026" is not a valid value, and the browser shows the field empty."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")
