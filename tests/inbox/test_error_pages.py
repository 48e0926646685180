"""Every error page is ours, in the person's language: HTML on the web, a problem document under /api/, and an
unhandled exception gives our 500 page without a traceback or Werkzeug's text (issue #18, item 4).

The app here is the test's own (SQLite, no one signed in): it needs routes that fail on purpose, and routes
cannot be added to the shared app once it has served a request. Nothing here reads or writes case data.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Blueprint, Flask, abort
from flask.testing import FlaskClient

from service.app import create_app
from service.extensions import db
from tests.conftest import TEST_SECRET_KEY

# code: (Swedish heading, English heading)
PAGES = {
    400: ("Begäran kunde inte förstås.", "The request could not be understood."),
    401: ("Du behöver logga in.", "You need to sign in."),
    403: ("Du har inte behörighet till den här sidan.", "You are not allowed to see this page."),
    404: ("Sidan finns inte.", "The page does not exist."),
    405: ("Sidan kan inte användas på det sättet.", "This page cannot be used that way."),
    409: ("Någon annan hann ändra samma sak först.", "Someone else changed the same thing first."),
    410: ("Något gick fel (felkod 410).", "Something went wrong (error code 410)."),
    413: ("Begäran är för stor.", "The request is too large."),
    415: ("Det skickade formatet stöds inte.", "The format sent is not supported."),
    422: ("Uppgifterna kunde inte behandlas.", "The information could not be processed."),
    429: ("För många försök på kort tid.", "Too many attempts in a short time."),
    500: ("Ett oväntat fel inträffade.", "An unexpected error occurred."),
    503: ("Tjänsten är tillfälligt otillgänglig.", "The service is temporarily unavailable."),
}
API_TITLES = {404: ("Finns inte", "Not found"), 405: ("Metoden stöds inte", "Method not allowed"),
              422: ("Ogiltiga uppgifter", "Invalid data"), 500: ("Internt fel", "Internal error")}
SECRET = "hemlig detalj ur spårningen"
WERKZEUG_TEXTS = ("Traceback", "RuntimeError", SECRET, "Internal Server Error", "The server encountered",
                  "Werkzeug", "Method Not Allowed", "Not Found</h1>")


@pytest.fixture(scope="module")
def error_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    directory: Path = tmp_path_factory.mktemp("error-pages")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'errors.db'}", "TESTING": True,
                      "SECRET_KEY": TEST_SECRET_KEY})
    failing = Blueprint("failing", __name__)

    @failing.get("/prov/fel/<int:code>")
    @failing.get("/api/prov/fel/<int:code>")
    def fail(code: int) -> str:
        abort(code)

    @failing.get("/prov/krasch")
    @failing.get("/api/prov/krasch")
    def crash() -> str:
        raise RuntimeError(SECRET)

    app.register_blueprint(failing)
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def web(error_app: Flask) -> FlaskClient:
    return error_app.test_client()


def heading(html: str) -> str:
    return html.split("<h1>", 1)[1].split("</h1>", 1)[0].strip()


@pytest.mark.parametrize("language", ["sv", "en"])
def test_every_error_code_gets_our_page_in_the_language(web: FlaskClient, language: str) -> None:
    for code, texts in PAGES.items():
        path = "/prov/krasch" if code == 500 else f"/prov/fel/{code}"
        response = web.get(path, headers={"Accept-Language": language})
        html = response.get_data(as_text=True)
        assert response.status_code == code and response.content_type.startswith("text/html"), (code, html[:200])
        assert f'<html lang="{language}">' in html and "skip-link" in html, (code, html[:200])  # our layout
        assert heading(html) == texts[0 if language == "sv" else 1], (code, heading(html))
        assert not any(text in html for text in WERKZEUG_TEXTS), (code, html)


def test_routing_errors_and_a_crash_are_ours_too(web: FlaskClient) -> None:
    not_allowed = web.post("/", headers={"Accept-Language": "en"})  # the start page only answers GET
    assert not_allowed.status_code == 405 and "GET" in not_allowed.headers["Allow"]
    assert heading(not_allowed.get_data(as_text=True)) == PAGES[405][1]
    crash = web.get("/prov/krasch")
    html = crash.get_data(as_text=True)
    assert crash.status_code == 500 and heading(html) == PAGES[500][0] and "Inget har sparats." in html
    assert not any(text in html for text in WERKZEUG_TEXTS)


@pytest.mark.parametrize("language", ["sv", "en"])
def test_api_errors_are_problem_documents_in_the_language(web: FlaskClient, language: str) -> None:
    index = 0 if language == "sv" else 1
    for code in (400, 401, 403, 404, 405, 409, 413, 422, 429, 503):
        response = web.get(f"/api/prov/fel/{code}", headers={"Accept-Language": language})
        assert response.status_code == code and response.content_type == "application/problem+json", code
        body = response.get_json()
        assert body["status"] == code and body["instance"] == f"/api/prov/fel/{code}" and body["detail"]
        if code in API_TITLES:
            assert body["title"] == API_TITLES[code][index]
        assert "Werkzeug" not in body["detail"] and "requested URL" not in body["detail"]
    crash = web.get("/api/prov/krasch", headers={"Accept-Language": language})
    assert crash.status_code == 500 and crash.content_type == "application/problem+json"
    assert crash.get_json()["title"] == API_TITLES[500][index] and SECRET not in crash.get_data(as_text=True)
    # A method no /api/ route takes: routing fails before any API blueprint is chosen.
    wrong_method = web.open("/api/v1/instances", method="PROPFIND", headers={"Accept-Language": language})
    assert wrong_method.status_code == 405 and wrong_method.content_type == "application/problem+json"
    assert wrong_method.get_json()["title"] == API_TITLES[405][index]
