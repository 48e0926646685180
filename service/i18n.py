"""Language: Swedish by default, English selectable (Flask-Babel).

The choice is kept in the session and in a long-lived cookie; the browser's Accept-Language counts only
while the person has not chosen. Message ids are the Swedish texts; service/translations/en holds the
English ones (`pybabel compile`, run by `make setup`, builds the .mo files).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, flash, has_request_context, request, session
from flask_babel import Babel, get_locale, gettext

from service.messages import Message

LANGUAGE_COOKIE = "samverkan_lang"
SESSION_KEY = "language"
LANGUAGE_NAMES = {"sv": "Svenska", "en": "English"}


def languages() -> list[str]:
    """The configured languages, the default first."""
    return [code.strip() for code in str(current_app.config["LANGUAGES"]).split(",") if code.strip()]


def chosen_language() -> str | None:
    """The language the person picked (session, then cookie), if any and still offered."""
    for value in (session.get(SESSION_KEY), request.cookies.get(LANGUAGE_COOKIE)):
        if value in languages():
            return str(value)
    return None


def select_locale() -> str:
    """Chosen language, else the browser's preference among ours, else Swedish."""
    if not has_request_context():  # CLI commands and scheduler jobs: the default
        return languages()[0]
    return chosen_language() or request.accept_languages.best_match(languages()) or languages()[0]


def current_language() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def translate(message: str | Mapping[str, Any]) -> str:
    """A Swedish message in the reader's language: a Message (or a flashed {"msgid", "values"}) with its values
    filled in, any other text as its own msgid; a text the catalogue lacks stays as it is."""
    if isinstance(message, Message):
        return str(gettext(message.msgid, **message.values))
    if isinstance(message, Mapping):
        return str(gettext(str(message.get("msgid", "")), **dict(message.get("values") or {})))
    return str(gettext(message)) if message else message


def flash_message(msgid: str, **values: Any) -> None:
    """Flash a Swedish message, translated when the next page shows it (in that page's language)."""
    flash({"msgid": msgid, "values": values})  # type: ignore[arg-type]  # the session keeps any JSON value


def init_app(app: Flask) -> None:
    """Set up Flask-Babel on ``app`` and give templates the current language."""
    Babel(app, locale_selector=select_locale)
    app.add_template_filter(translate, "translate")

    @app.context_processor
    def language_context() -> dict[str, Any]:
        return {"current_language": current_language(), "language_names": LANGUAGE_NAMES}
