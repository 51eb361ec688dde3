"""Logging for the service: resident ids never appear whole in a log line."""

from __future__ import annotations

import logging
import re

from guihua.usecases.audit import mask

_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")


class MaskSubjectIds(logging.Filter):
    """Masks 18-character resident ids (first 6 and last 2 characters shown) in messages and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _ID.sub(lambda m: mask(m.group()) or "", record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                _ID.sub(lambda m: mask(m.group()) or "", a) if isinstance(a, str) else a for a in record.args
            )
        return True


def install() -> None:
    for name in ("uvicorn.access", "uvicorn.error", "guihua"):
        logging.getLogger(name).addFilter(MaskSubjectIds())
