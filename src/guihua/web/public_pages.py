"""The public pages: ``/`` (what the scheme is, its rules and perks) and ``/stats``.

Both read what the API publishes, through the same use cases: the active catalog
(``GET /api/v1/catalog``) and the suppressed statistics (``GET /api/v1/stats/*``,
:mod:`guihua.usecases.public_stats`), so a cell withheld there is withheld here.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from guihua.usecases import catalogs, public_stats
from guihua.web import catalog_view
from guihua.web.actors import store_of
from guihua.web.locales import language
from guihua.web.portal import portal_router
from guihua.web.rendering import is_htmx, render

router = portal_router()


@router.get("/")
def home(request: Request, q: str = "") -> HTMLResponse:
    """The scheme in words; ``q`` filters its rules (htmx swaps only the list as one types)."""
    lang = language(request)
    version, catalog = catalogs.active(store_of(request))
    query = q[: catalog_view.MAX_QUERY]
    context = {
        "q": query,
        "rules": catalog_view.rules(catalog, lang, query),
        "rule_count": len(catalog.rules),
    }
    if is_htmx(request) and request.headers.get("hx-target") == "rules":
        return render(request, "_rules.html", context)
    scheme = catalog.scheme
    context |= {
        "version": version,
        "scheme": {
            "name": scheme.text("name", lang),
            "base": scheme.base,
            "min": scheme.min,
            "max": scheme.max,
            "max_points_per_record": scheme.max_points_per_record,
            "retention_years": scheme.retention_years,
        },
        "categories": [
            {
                "name": c.text("name", lang) or c.code,
                "max_gain": c.max_gain_per_year,
                "max_loss": c.max_loss_per_year,
            }
            for c in catalog.categories
        ],
        "perks": catalog_view.perks(catalog, lang),
    }
    return render(request, "home.html", context)


@router.get("/stats")
def stats(request: Request) -> HTMLResponse:
    """The distribution, above / at / below base, defaulters and each department's feed."""
    lang = language(request)
    store = store_of(request)
    distribution = public_stats.distribution(store)
    feeds = public_stats.feed_status(store)
    _, catalog = catalogs.active(store)
    names = {d.code: d.text("name", lang) or d.code for d in catalog.departments}
    shown = [b["count"] for b in distribution["histogram"] if b["count"] is not None]
    return render(
        request,
        "stats.html",
        {
            "d": distribution,
            "feeds": [{**f, "name": names.get(f["department"], f["name"])} for f in feeds["feeds"]],
            "feeds_at": feeds["at"],
            "histogram_max": max(shown, default=0),
        },
    )
