"""Reject reasons (spec section 3), in the order they are checked."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
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
