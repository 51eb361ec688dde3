"""Parameters shared by the endpoints."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, Query

from guihua.http.auth import Caller, caller

Who = Annotated[Caller, Depends(caller)]
At = Annotated[dt.date | None, Query(description="Date YYYY-MM-DD (default: today)")]
