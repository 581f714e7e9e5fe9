from rest_framework import pagination


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    default_limit = 50
    max_limit = 500


class CursorPagination(pagination.CursorPagination):
    """For large, append-mostly tables: stable deep pages without OFFSET scans."""

    page_size = 50
    max_page_size = 500
    page_size_query_param = "limit"
    ordering = "-created_at"
