"""Highlighting: matched words wrapped in ``<mark>``, everything else escaped.

``highlight("Doc med rsn <b>", {"med"})`` -> ``"Doc <mark>med</mark> rsn &lt;b&gt;"``.
Text from the data and from the query is never trusted as markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection

from indexer.analysis import STOP_WORDS, fold, stem

_TOKEN = re.compile(r"[A-Za-z0-9\u00c0-\uffff]+(?:['./][A-Za-z0-9\u00c0-\uffff]+)*")


def highlight(text: str, terms: Collection[str]) -> str:
    """HTML-escaped ``text`` with the words whose index term is in ``terms`` marked."""
    parts: list[str] = []
    position = 0
    for found in _TOKEN.finditer(text):
        parts.append(html.escape(text[position : found.start()]))
        word = found.group(0)
        folded = fold(word).replace("'", "")
        if folded and folded not in STOP_WORDS and stem(folded) in terms:
            parts.append(f"<mark>{html.escape(word)}</mark>")
        else:
            parts.append(html.escape(word))
        position = found.end()
    parts.append(html.escape(text[position:]))
    return "".join(parts)
