"""``/docs``: the API's interactive documentation (Swagger UI), working without the internet.

FastAPI's own ``/docs`` loads Swagger UI from a CDN and starts it with an inline script: blank
offline, and refused by the portal's Content-Security-Policy. This page loads Swagger UI's
files from the ``swagger-ui-py`` package (Swagger UI 5, Apache-2.0), served by Guihua under
``/static/swagger-ui/``, and starts it from ``/static/swagger-init.js``. ``/redoc`` is not
served (it too came from a CDN).
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import Request
from fastapi.responses import FileResponse, HTMLResponse

from guihua.web.locales import language
from guihua.web.page_errors import PageError
from guihua.web.portal import portal_router
from guihua.web.rendering import environment

router = portal_router()
SWAGGER_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
}


@router.get("/docs")
def docs(request: Request) -> HTMLResponse:
    """The page that starts Swagger UI on ``/openapi.json``."""
    html = (
        environment(language(request))
        .get_template("docs.html")
        .render({"lang": language(request), "openapi_url": request.app.openapi_url or "/openapi.json"})
    )
    return HTMLResponse(html, headers={"cache-control": "no-cache"})


@router.get("/static/swagger-ui/{name}")
def swagger_file(name: str) -> FileResponse:
    """One of Swagger UI's own files, from the installed package (nothing else of it is served)."""
    if name not in SWAGGER_FILES:
        raise PageError(404, "not_found")
    path = files("swagger_ui") / "static" / name
    return FileResponse(str(path), media_type=SWAGGER_FILES[name], headers={"cache-control": "max-age=86400"})
