"""Every error page is ours, in the person's language: an HTML page on the web, a problem document under /api/.

Registered app-wide by class (HTTPException, Exception), so a closer handler still wins: the API blueprints'
own handlers, the request limits' 413 page. Nothing of a traceback or of Werkzeug's default text is shown.
"""

from __future__ import annotations

import logging

from flask import Response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from service.extensions import db
from service.inbox.views import bp
from service.transactions import lost_connection

log = logging.getLogger(__name__)

# The heading of each error page; a code not listed gets "Något gick fel (felkod N)".
MESSAGES = {
    400: _l("Begäran kunde inte förstås."),
    401: _l("Du behöver logga in."),
    403: _l("Du har inte behörighet till den här sidan."),
    404: _l("Sidan finns inte."),
    405: _l("Sidan kan inte användas på det sättet."),
    409: _l("Någon annan hann ändra samma sak först."),
    413: _l("Begäran är för stor."),
    415: _l("Det skickade formatet stöds inte."),
    422: _l("Uppgifterna kunde inte behandlas."),
    429: _l("För många försök på kort tid."),
    500: _l("Ett oväntat fel inträffade."),
    503: _l("Tjänsten är tillfälligt otillgänglig."),
}
DETAILS = {
    409: _l("Ladda om sidan och försök igen."),
    429: _l("Vänta en stund och försök igen."),
    500: _l("Inget har sparats. Felet är loggat; försök igen, och kontakta förvaltningen om det upprepas."),
    503: _l("Försök igen om en stund."),
}


def is_api_request() -> bool:
    """Under /api/ every answer is a problem document, also where no API blueprint matched (405, 404)."""
    return request.path == "/api" or request.path.startswith("/api/")


def error_page(code: int, detail: str | None = None) -> tuple[str, int]:
    """Our page for ``code`` in the current language."""
    message = str(MESSAGES[code]) if code in MESSAGES else _("Något gick fel (felkod %(code)s).", code=code)
    shown = detail if detail is not None else (str(DETAILS[code]) if code in DETAILS else None)
    return render_template("inbox/error.html", message=message, detail=shown), code


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response | tuple[str, int, dict[str, str]]:
    """Every HTTP error (abort(404), a 405 from routing, a CSRF 400 ...) as our page or problem document."""
    if error.response is not None:  # abort(response): the view made its own answer
        return error.response  # type: ignore[return-value]
    if is_api_request():
        from service.api.errors import http_problem

        return http_problem(error)
    code = error.code or 500
    if code < 400:  # a redirect raised as an exception (RequestRedirect) is not an error
        return error.get_response()  # type: ignore[return-value]
    page, _code = error_page(code, _("Sidan var för gammal eller sessionen har gått ut. Ladda om sidan och försök "
                                      "igen.") if isinstance(error, CSRFError) else None)
    kept = {name: value for name, value in error.get_headers() if name in ("Allow", "Retry-After", "WWW-Authenticate")}
    return page, code, kept


@bp.app_errorhandler(Exception)
def unexpected(error: Exception) -> Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    """Anything a view did not handle: rolled back, logged with its traceback, and a page that shows none."""
    if isinstance(error, HTTPException):
        return http_error(error)
    db.session.rollback()
    if is_api_request():
        from service.api.errors import unexpected_problem

        return unexpected_problem(error)
    if isinstance(error, DBAPIError) and lost_connection(error):  # a database restart: nothing was written
        log.warning("database connection lost in %s %s", request.method, request.path)
        page = render_template("inbox/error.html", message=_("Databasen gick inte att nå. Inget har sparats."),
                               detail=_("Försök igen om en stund."))
        return page, 503, {"Retry-After": "1"}
    log.exception("unexpected error in %s %s", request.method, request.path)
    return error_page(500)
