"""The API's JSON renderer writes the bytes DRF's own JSONRenderer writes."""

import datetime as dt
import uuid
from decimal import Decimal

from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from ally360.api.renderers import ORJSONRenderer

BOGOTA = dt.timezone(dt.timedelta(hours=-5))


def payload() -> dict:
    return {
        "id": uuid.UUID("b986b055-5e19-44ae-ab7e-6c020cec49d9"),
        "name": 'Añoño ₡ 😀 "quoted" \\ back\nline \u2028 and \u2029 <script>',
        "amount": Decimal("12345.60"),
        "created_at": dt.datetime(2026, 12, 7, 6, 51, 20, 123456, tzinfo=BOGOTA),
        "utc": dt.datetime(2026, 12, 7, 11, 51, 20, tzinfo=dt.UTC),
        "naive": dt.datetime(2026, 12, 7, 11, 51, 20, 5),
        "day": dt.date(2026, 12, 7),
        "at": dt.time(23, 59, 59, 999999),
        "lasted": dt.timedelta(hours=1, seconds=3),
        "message": gettext_lazy("This field is required."),
        "error": ErrorDetail("Mal dato", code="invalid"),
        "rows": ReturnList(
            [ReturnDict({"a": 1, "b": [True, False, None]}, serializer=None)], serializer=None
        ),
        "pair": (1, "two"),
        "by_number": {1: "one", 2: {"nested": Decimal("0.00")}},
        "empty": {},
        "negative": -(2**63),
        "zero": 0,
    }


def test_the_answer_is_byte_for_byte_drfs(monkeypatch):
    data = payload()
    expected = JSONRenderer().render(data, "application/json")

    def not_drfs(*args, **kwargs):
        raise AssertionError("rendered by DRF's encoder, not orjson")

    monkeypatch.setattr(JSONRenderer, "render", not_drfs)
    ours = ORJSONRenderer().render(data, "application/json")
    assert ours == expected
    assert b"\\u2028" in ours and "\u2028".encode() not in ours


def test_what_orjson_cannot_write_is_rendered_by_drf():
    for data in ({"huge": 2**70, "name": "x"}, {"nested": [{"huge": -(2**64)}]}):
        assert ORJSONRenderer().render(data, "application/json") == JSONRenderer().render(
            data, "application/json"
        )


def test_an_indented_answer_and_no_data_are_drfs():
    data = payload()
    for media_type in ("application/json; indent=4", "application/json; indent=2"):
        ours = ORJSONRenderer().render(data, media_type)
        assert ours == JSONRenderer().render(data, media_type)
        assert b"\n    " in ours or b"\n  " in ours
    assert ORJSONRenderer().render(None) == b""
