"""Reject reasons (spec section 3), in the order they are checked, and the limits of a readable row."""

from __future__ import annotations

from enum import StrEnum

MAX_SOURCE_ID = 200  # characters of a department's own record id
MAX_VALUE = 4000  # characters of any one cell (spec: of a string value; no other value is this long)


class Reason(StrEnum):
    UNREADABLE = "unreadable"
    MISSING_SOURCE_ID = "missing_source_id"
    INVALID_SUBJECT_ID = "invalid_subject_id"
    INVALID_DATE = "invalid_date"
    FUTURE_DATE = "future_date"
    UNKNOWN_METRIC = "unknown_metric"
    METRIC_NOT_PERMITTED = "metric_not_permitted"
    PROHIBITED_ATTRIBUTE = "prohibited_attribute"
    UNKNOWN_FIELD = "unknown_field"
    MISSING_FIELD = "missing_field"
    INVALID_FIELD = "invalid_field"
