"""The filter backend skips the FilterSet when the request names none of its filters; this holds
only if every key a filter's widget reads is recognised as naming it."""

import pytest
from django.forms import MultiWidget
from django.urls import get_resolver

from ally360.api.filters import TenantFilterBackend, _names_a_filter


def _viewsets(patterns):
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            yield from _viewsets(pattern.url_patterns)
        else:
            cls = getattr(pattern.callback, "cls", None)
            if cls is not None:
                yield cls


def project_filtersets():
    """Every FilterSet the API uses: declared (`filterset_class`) or built by django-filter
    from `filterset_fields`."""
    found = {}
    for view_class in _viewsets(get_resolver().url_patterns):
        model = getattr(view_class, "model", None)
        if model is None:
            continue
        view = view_class()
        built = TenantFilterBackend().get_filterset_class(view, model._base_manager.none())
        if built is None:
            continue
        declared = getattr(view_class, "filterset_class", None) is not None
        found[built.__qualname__ if declared else f"{view_class.__name__} fields"] = built

    return [found[label] for label in sorted(found)]


def widget_keys(name, widget):
    if isinstance(widget, MultiWidget):
        return [f"{name}{suffix}" for suffix in widget.widgets_names]
    if hasattr(widget, "suffixes"):  # django-filter's SuffixedMultiWidget
        return [widget.suffixed(name, suffix) for suffix in widget.suffixes]
    return [name]


def test_the_project_has_filtersets():
    assert len(project_filtersets()) >= 10


@pytest.mark.parametrize("filterset_class", project_filtersets(), ids=lambda c: c.__qualname__)
def test_every_key_a_filter_reads_names_it(filterset_class):
    form = filterset_class().form
    for name, field in form.fields.items():
        for key in widget_keys(name, field.widget):
            assert _names_a_filter(filterset_class, {key: "x"}), (filterset_class, key)


@pytest.mark.parametrize("filterset_class", project_filtersets(), ids=lambda c: c.__qualname__)
def test_paging_and_unrelated_parameters_name_no_filter(filterset_class):
    params = {"limit": "5", "offset": "5", "cursor": "x", "search": "a", "ordering": "name"}
    assert not _names_a_filter(filterset_class, {"unrelated": "1"})
    clashing = [key for key in params if _names_a_filter(filterset_class, {key: "1"})]
    # A filter named like a paging parameter would shadow it; none is.
    assert clashing == []
