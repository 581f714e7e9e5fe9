"""Form pieces the pages share."""

from django import forms


class DateInput(forms.DateInput):
    """A browser's date picker. Its value is ISO (yyyy-mm-dd) whatever the page's language: a
    Spanish page's "07/12/2026" is not a valid value, and the browser shows the field empty."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


def changed_on_page(form: forms.Form) -> list[str]:
    """The fields to save of a bound form whose fields carry the value the page showed (a
    hidden "initial-" input, `show_hidden_initial`): those changed on the page, judged against
    the page as it was opened rather than the row as it is now — and any sent without that
    value (a page opened before it carried one, a client posting only what it shows), which is
    taken as given: an unticked box without it would read as unchanged and be dropped, the
    page saying "saved". (A list's value is one hidden input per item, none for an empty list:
    its absence says nothing, and the list is judged as Django judges it.)"""
    changed = form.changed_data
    return [
        name
        for name, field in form.fields.items()
        if name in changed
        or (
            field.show_hidden_initial
            and not issubclass(field.hidden_widget, forms.MultipleHiddenInput)
            and form.add_initial_prefix(name) not in form.data
        )
    ]
