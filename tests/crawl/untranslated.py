"""Find Swedish text left on a page served in English (issue #18, item 9).

A visible text node (or a visible attribute: placeholder, title, aria-label, alt, a button's value)
counts as untranslated when, after the allowed names and terms are taken out, it still has a Swedish
letter (å, ä, ö) or a common Swedish word. Not looked at: <script>, <style>, <code>, <pre>, <textarea>,
form field values, and any element marked ``translate="no"`` or ``lang="sv"`` (HTML's own markers for
text that is not to be translated: user data, the name of the language "Svenska" in the language picker).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from html.parser import HTMLParser

# Names and terms that are Swedish in English too: the demo's organisations, bodies, people and places, the
# service's name, Swedish legal terms kept in the English text, and test data.
ALLOWED = (
    "Västra Götalandsregionen", "Västra Götaland", "Göteborgs Stad", "Göteborgsregionen (GR)", "Göteborgsregionen",
    "Göteborg", "Alingsås kommun", "Alingsås", "Lerums kommun", "Lerum", "Regionstyrelsen",
    "Hälso- och sjukvårdsstyrelsen", "Kommunstyrelsen", "Socialnämnden Centrum", "Socialnämnden",
    "Förbundsstyrelsen", "Anna Lindqvist", "Göran Berg", "Göran", "Rita Svensson", "Rolf Ek", "Alma Nord",
    "Leo Holm", "Greta Rask", "Olof Strand", "Ingrid Wall", "Åsa Adminsson", "Åsa", "Samverkan", "Svenska",
    # Swedish legal terms English text keeps (with an explanation beside them): the court and its case number.
    "laga kraft", "justering", "anslag", "förvaltningsrätten i", "förvaltningsrätten", "målnummer",
    "Testkommun", "Testperson", "rätt-lösenord-1", "Kommunalförbund",
)
# Common words of Swedish UI text that are not also English words.
_WORDS = """
    och för inte eller med att som från uppgift uppgiften uppgifter avtal avtalet avtalen ärende ärenden sparat
    sparad sparade spara beslut beslutet besluten avvikelse avvikelsen avvikelser tvist tvisten tvister parter
    parten sök skicka nytt dagar datum inga ingen inget finns är på vid efter väntar logga alla sida
    sidan nästa föregående händelse händelser ändring ändringar versionen huvudman huvudmän behörig instans
    nivå nivån kategori kategorier handläggare samordnare granskare förvaltare ansvarig ansvariga skapad skapat
    ändrad öppen öppna stängd avslutad avslutat pågår klar klart nya här denna detta vilka vem hur när inom
    senast sista första tillbaka avbryt bort lägg inkorg statistik granskning processer processen incidenter
    utkast svar svaret mottaget kvitterat besvarat överklagande protokoll paragraf diarienummer organisationer
    användare lösenord namn rubrik beskrivning kommentar välj filtrera
"""
SWEDISH_WORDS = frozenset(_WORDS.split())
HIDDEN = frozenset({"script", "style", "code", "pre", "textarea", "template", "noscript"})
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})
TEXT_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")
SWEDISH_LETTER = re.compile(r"[åäöÅÄÖ]")
WORD = re.compile(r"[^\W\d_]+")


def untranslated_texts(html: str, allow: Iterable[str] = ()) -> list[str]:
    """The visible texts of ``html`` that look Swedish (see the module docstring); ``allow`` adds test data."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    allowed = _allowed(tuple(allow))
    found: list[str] = []
    for text in parser.texts:
        if text not in found and _untranslated(text, allowed):
            found.append(text)
    return found


@lru_cache(maxsize=8)
def _allowed(allow: tuple[str, ...]) -> tuple[str, ...]:
    """The names and the test data that could hide Swedish, longest first (the rest cannot matter).

    Stored text is compared as a page shows it: whitespace collapsed as in a text node, and each of its lines on
    its own too (a text of several lines is rendered with line breaks or one element per line)."""
    pieces = {" ".join(piece.split()) for a in allow for piece in (a, *a.splitlines())}
    extra = {piece for piece in pieces if piece and looks_swedish(piece)}
    return tuple(sorted({*ALLOWED, *extra}, key=len, reverse=True))


@lru_cache(maxsize=65536)
def _untranslated(text: str, allowed: tuple[str, ...]) -> bool:
    return looks_swedish(text) and looks_swedish(text, allowed)


def looks_swedish(text: str, allowed: Iterable[str] = ALLOWED) -> bool:
    """Whether ``text``, once the allowed names are taken out, has a Swedish letter or word."""
    for name in allowed:
        if name.casefold() in text.casefold():
            text = re.sub(re.escape(name), " ", text, flags=re.IGNORECASE)
    if SWEDISH_LETTER.search(text):
        return True
    return any(word.lower() in SWEDISH_WORDS for word in WORD.findall(text))


class _TextParser(HTMLParser):
    """Collects visible text nodes and text attributes, skipping hidden and marked subtrees."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._stack: list[tuple[str, bool]] = []  # per open element: its tag, whether its content is skipped

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        skipped = self._skipping() or self._marks_skip(tag, values)
        if not skipped:
            self._attribute_texts(tag, values)
        if tag not in VOID:
            self._stack.append((tag, skipped))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self._skipping() and not self._marks_skip(tag, dict(attrs)):
            self._attribute_texts(tag, dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        """Close ``tag`` and whatever was left open inside it (<li>, <p> without end tags); ignore strays."""
        if any(open_tag == tag for open_tag, _ in self._stack):
            while self._stack.pop()[0] != tag:
                pass

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._skipping():
            self.texts.append(text)

    def _skipping(self) -> bool:
        return bool(self._stack) and self._stack[-1][1]

    @staticmethod
    def _marks_skip(tag: str, values: dict[str, str | None]) -> bool:
        if tag in HIDDEN or values.get("translate") == "no" or "hidden" in values:
            return True
        return tag != "html" and (values.get("lang") or "").startswith("sv")

    def _attribute_texts(self, tag: str, values: dict[str, str | None]) -> None:
        names = [*TEXT_ATTRIBUTES, "value"] if tag == "input" and values.get("type") in {"submit", "button"} \
            else TEXT_ATTRIBUTES
        for name in names:
            text = " ".join((values.get(name) or "").split())
            if text:
                self.texts.append(text)
