"""Swedish messages with values, translatable later: ``Message("Högst %(n)s tecken.", n=200)``.

A Message reads as its Swedish text (it is a ``str``), so code without Flask (the engine) can build one and
anything that shows it unchanged still works; ``service.i18n.translate`` gives it in the reader's language by
looking up the msgid and filling in the values (the English catalogue has the msgid with the same ``%(name)s``).
"""

from __future__ import annotations

from typing import Any


class Message(str):
    """A message id (Swedish, with ``%(name)s`` placeholders) and its values; its text is the Swedish filled in."""

    msgid: str
    values: dict[str, Any]

    def __new__(cls, msgid: str, **values: Any) -> Message:
        message = super().__new__(cls, msgid % values if values else msgid)
        message.msgid, message.values = msgid, values
        return message
