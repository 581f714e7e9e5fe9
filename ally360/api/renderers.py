"""The API's JSON renderer."""

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

# Date-times and dataclasses go to DRF's encoder (it trims microseconds to milliseconds);
# dictionary keys that are not strings are written as the standard library writes them.
_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)
_LINE_SEPARATORS = ("\u2028".encode(), "\u2029".encode())
_drf_default = JSONEncoder().default


class ORJSONRenderer(JSONRenderer):
    """DRF's JSONRenderer (compact, UTF-8, the same bytes), encoding with orjson: the standard
    library's encoder was a twentieth of rendering an invoice page. What orjson does not know
    (decimals, lazy translations, querysets) goes through DRF's own encoder; an indented answer
    (`Accept: application/json; indent=4`) and what orjson refuses (an integer beyond 64 bits)
    are rendered by DRF itself. It differs only where the API writes nothing: floats (NaN
    written as null instead of refused, 1e-05 as 0.00001), a dict subclass with its own
    `items()` (a QueryDict), and keys or values DRF refuses (UUID or date keys, enums), which
    orjson writes. Money and quantities are strings; a test compares every kind of value the
    API writes, byte for byte."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None or self.get_indent(accepted_media_type, renderer_context or {}):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            rendered = orjson.dumps(data, default=_drf_default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        for separator in _LINE_SEPARATORS:  # escaped by DRF, for answers read as JavaScript
            if separator in rendered:
                rendered = rendered.replace(separator, separator.decode().encode("unicode_escape"))
        return rendered
