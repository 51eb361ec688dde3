"""The web portal: server-rendered pages for residents, service counters, departments and the public.

Mounted into the service by :func:`guihua.http.service.create_app` (``portal.install``), so
``guihua serve`` serves the API and the pages together. Pages call the same use cases as the
API's ``http/*_routes.py`` and ask ``core/policy.py`` what an actor may do; no rule of the
scheme is computed in a template or a page handler.

How to add a page (``/me``, ``/counter``, ``/department``, ``/review``...)
-----------------------------------------------------------------------

1. A module ``web/<name>_pages.py`` with ``router = portal_router()``
   (:func:`guihua.web.portal.portal_router`: HTML answers, out of the OpenAPI document, and the
   CSRF check on every POST, PUT, PATCH and DELETE), listed in :func:`guihua.web.portal.install`.
2. Handlers are plain ``def`` (the use cases block) and end in
   ``render(request, "name.html", {...})`` (:func:`guihua.web.rendering.render`).
3. Who is signed in: ``actor = require_actor(request)`` (:mod:`guihua.web.actors`) gives the
   :class:`~guihua.core.policy.Actor` or sends the visitor to ``/login`` and back;
   ``signed_in(request)`` gives the Actor or None. Then ask the policy, e.g.
   ``refusal = policy.read_subject(actor, sid, purpose)``, and on a refusal
   ``raise PageError(403, "forbidden", refusal)`` (:mod:`guihua.web.page_errors`), which renders
   ``error.html`` in the visitor's language (add a ``kind`` there for a new kind of error).
4. Templates ``{% extends "base.html" %}`` and fill ``{% block title %}`` and
   ``{% block content %}``; the layout has the header, the navigation
   (:mod:`guihua.web.navigation`: add the page's :class:`~guihua.web.navigation.Link` to
   ``BY_ROLE``), the language switch and ``<html lang>``. ``_macros.html`` has the words for
   codes (roles, agreement states, withheld counts) and the GOV.UK-style ``error_summary``.
5. Every form: ``method="post"`` and ``{{ csrf_field() }}`` inside it (:mod:`guihua.web.csrf`);
   htmx requests carry the token by themselves (``hx-headers`` on ``<body>`` for signed-in
   visitors). No inline ``<script>``, ``style=`` or ``on...=`` handler: the
   Content-Security-Policy (``http/guards.py``) refuses them; put scripts in ``web/static/``.
   To answer htmx with a part only, check ``is_htmx(request)`` and render a partial template.
6. Words: English msgids in ``_("...")`` (templates) or ``N_("...")`` (Python, then translated
   in the template); ``make messages`` extracts them into ``locale/portal.pot`` and merges both
   catalogs; translate the new entries of ``locale/zh_CN/LC_MESSAGES/portal.po`` (in
   ``locale/en/...`` an empty ``msgstr`` means the msgid itself; fill one to reword the English
   without touching a template). ``tests/web/test_i18n.py`` fails while one is missing.
   Catalog items (rules, metrics, departments, perks) carry their own translations:
   ``item.text("name", lang)``; the language is :func:`guihua.web.locales.language`.

Modules: ``portal`` (install, routers, error pages), ``sessions`` (the signed cookie),
``actors`` (who is signed in), ``csrf``, ``locales`` (languages and catalogs), ``rendering``,
``navigation``, ``page_errors``; pages: ``public_pages`` (``/``, ``/stats``), ``verify_pages``,
``login_pages`` (``/login``, ``/logout``), ``oidc_login``, ``docs_pages`` (offline ``/docs``),
``me_pages`` (``/me``: a resident's own pages, arranged by ``me_views``, worded in ``_me_views.html``);
staff pages: ``counter_pages`` (``/counter``: a service desk serving a resident in person, the views
gathered by ``resident_view``, a certificate's QR code drawn by ``qr_image``), ``department_pages``
(``/department``: upload, outcome, rejects, objections), ``review_pages`` (``/review``), sharing
``staff`` (the audited refusal, the catalog's words, use-case errors in words) and
``templates/_staff.html``; ``static/staff.js`` adds print buttons and the upload's progress.
"""
