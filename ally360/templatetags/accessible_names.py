"""Accessible names for the pages' inputs that only a table's column header names visually."""

from django import template

register = template.Library()


@register.filter
def aria_label(field, label=None):
    """The bound field rendered as `{{ field }}` would be, with `label` (its own label when not
    given) as its accessible name: `{{ line.quantity|aria_label }}`, or a row's own name built
    with `{% blocktranslate … asvar name %}` for rows that repeat."""
    html = field.as_widget(attrs={"aria-label": label or field.label})
    if field.field.show_hidden_initial:
        html += field.as_hidden(only_initial=True)
    return html
