"""Logging for the service: resident ids never appear whole in a log line.

Messages, their arguments and the text of any traceback go through the one masking rule
(:func:`guihua.core.masking.mask_text`), so an id dressed in whitespace or percent-encoding in
a request line is masked like a plain one; SQL parameters never reach a traceback (the store's
engine hides them).
"""

from __future__ import annotations

import logging

from guihua.core.masking import mask_text


class MaskSubjectIds(logging.Filter):
    """Masks resident ids in messages, arguments and tracebacks (first 6 and last 2 characters shown)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_text(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask_text(a) if isinstance(a, str) else a for a in record.args)
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
        return True


def install() -> None:
    for name in ("uvicorn.access", "uvicorn.error", "uvicorn", "guihua", "sqlalchemy"):
        logging.getLogger(name).addFilter(MaskSubjectIds())
