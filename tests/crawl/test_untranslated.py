"""The untranslated-text detector the English page tests and the crawl use."""

from __future__ import annotations

from tests.crawl.untranslated import untranslated_texts

PAGE = """<!doctype html><html lang="en"><head><title>Inkorg</title><style>p { content: "ö" }</style></head><body>
<ul><li>Inbox<li>Öppen</ul><h1>Tasks</h1><p>Väntar på beslut</p><p>Status: open</p>
<div translate="no"><p>Mitt ärende<p>written by a user</div><p>Ärende</p><script src="/x.js"></script>
<form><button lang="sv">Svenska</button><input name="q" value="Göteborg är fint" placeholder="Sök ärende">
<input type="submit" value="Spara"><textarea>och så vidare</textarea></form>
<p>Göteborgs Stad and Anna Lindqvist decided; laga kraft on 2026-01-01</p><code>agreement.decision_final</code>
<p>Uppgifter och beslut</p><span title="Visa alla">All</span></body></html>"""


def test_finds_swedish_letters_and_words_in_text_and_visible_attributes() -> None:
    assert untranslated_texts(PAGE) == [
        "Inkorg", "Öppen", "Väntar på beslut", "Ärende", "Sök ärende", "Spara", "Uppgifter och beslut", "Visa alla"]


def test_names_terms_marked_subtrees_and_given_test_data_are_allowed() -> None:
    assert untranslated_texts("<p>Olof Strand, Kommunstyrelsen, Alingsås kommun: laga kraft</p>") == []
    assert untranslated_texts("<p>Min text om avtal</p>", allow=["Min text om avtal"]) == []
    assert untranslated_texts('<p lang="sv">Svenska</p><p>English text: part, visa, sedan</p>') == []
