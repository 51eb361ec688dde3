"""Parameters shared by the endpoints."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, Path, Query

from guihua.core.languages import LANGUAGE_PATTERN
from guihua.http.auth import Caller, caller

Who = Annotated[Caller, Depends(caller)]
At = Annotated[dt.date | None, Query(description="Date YYYY-MM-DD (default: today in the scheme's zone)")]
# Ids by their shape in the OpenAPI document: anything else is a 422 before a use case runs (the check
# digit, the birth date and the province are the use case's: a valid shape can still be refused).
SubjectId = Annotated[
    str, Path(pattern=r"^[0-9]{17}[0-9Xx]$", description="An 18-character resident identity number")
]
Purpose = Annotated[
    str | None,
    Query(
        max_length=500,
        description="Why the data is read (required of service desks; kept in the audit trail)",
    ),
]
SourceId = Annotated[
    str, Path(min_length=1, max_length=200, description="The department's own id of the record")
]
PerkCode = Annotated[str, Path(min_length=1, max_length=100)]
CertificateCode = Annotated[str, Path(min_length=1, max_length=40, description="As printed: ABCD-EFGH-JKMN")]
Lang = Annotated[
    str | None,
    Query(
        max_length=35,
        pattern=LANGUAGE_PATTERN,
        description="Language of what the resident reads: zh-CN (the default) or en (zh, en-GB... too)",
        examples=["zh-CN", "en"],
    ),
]
