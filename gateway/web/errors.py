"""Error pages: a refused, missing or broken page keeps the screen's look (top bar,
night mode) and says what to do next, instead of the framework's bare page.

A request the page makes by itself (fetch, event stream, /api/) gets the status
and a line of text: the script that asked decides what to show.
"""

from __future__ import annotations

import logging

from flask import render_template
from werkzeug.exceptions import HTTPException

from gateway.web.session import asked_by_script

logger = logging.getLogger(__name__)

TITLES = {
    400: "This request could not be used",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed this way",
    413: "Too large",
    429: "Too many requests",
    500: "Something went wrong on the gateway",
}
ADVICE = {
    403: "Your role is not allowed to open this page. Ask an ALPR administrator if you need it.",
    404: "This page, or the record it names, is not found on this car's gateway.",
    500: "The error is in the gateway's log. Try again; if it keeps happening, tell the technician.",
}


def _page(exc: HTTPException):
    code = exc.code or 500
    title = TITLES.get(code, exc.name)
    # Werkzeug's own descriptions are for developers; ours (abort(400, description=...)) are for the officer.
    default = type(exc).description
    detail = exc.description if exc.description and exc.description != default else ADVICE.get(code, "")
    if asked_by_script():
        return f"{code} {title}", code, {"Content-Type": "text/plain; charset=utf-8"}
    try:
        return render_template("errors/error.html", code=code, title=title, detail=detail), code
    except Exception:  # the page itself failed (a broken database, say): the plain page, never a loop
        logger.exception("error page %s could not be shown", code)
        return f"{code} {title}. {detail}", code, {"Content-Type": "text/plain; charset=utf-8"}


def _http_error(exc: HTTPException):
    if exc.code is None or exc.code < 400 or exc.code == 401:
        return exc  # redirects, and 401 (the page's script signs the officer in again)
    return _page(exc)


def init_app(app) -> None:
    # Also an unhandled exception: Flask hands it over as an InternalServerError (500).
    app.register_error_handler(HTTPException, _http_error)
