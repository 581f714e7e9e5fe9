from django.utils.translation import gettext as _
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError

# Beyond it an offset would not fit PostgreSQL's bigint (an error page instead of a 400).
MAX_OFFSET = 10**15


def _query_int(request, name: str, *, minimum: int, maximum: int | None = None) -> int | None:
    """A paging parameter as given, or None when absent: a value that is not a whole number
    of at least `minimum` is a 400 naming it (DRF would quietly use its default)."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or int(text) < minimum:
        message = _("Give a whole number of at least %(minimum)s.") % {"minimum": minimum}
        raise ValidationError({name: [message]})
    if maximum is not None and int(text) > maximum:
        message = _("Give a whole number of at most %(maximum)s.") % {"maximum": maximum}
        raise ValidationError({name: [message]})
    return int(text)


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    default_limit = 50
    max_limit = 500

    def get_limit(self, request):
        limit = _query_int(request, self.limit_query_param, minimum=1)
        return self.default_limit if limit is None else min(limit, self.max_limit)

    def get_offset(self, request):
        return _query_int(request, self.offset_query_param, minimum=0, maximum=MAX_OFFSET) or 0


class CursorPagination(pagination.CursorPagination):
    """For large, append-mostly tables: stable deep pages without OFFSET scans."""

    page_size = 50
    max_page_size = 500
    page_size_query_param = "limit"
    ordering = "-created_at"

    def get_page_size(self, request):
        limit = _query_int(request, self.page_size_query_param, minimum=1)
        return self.page_size if limit is None else min(limit, self.max_page_size)

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound as exc:  # DRF answers a malformed cursor as if the list did not exist
            raise ValidationError({self.cursor_query_param: [_("Invalid cursor.")]}) from exc
