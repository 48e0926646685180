"""Filters the case lists share (deviations, disputes): a status and words to find, from the query string."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class ListFilter:
    status: str = ""
    words: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str], statuses: Iterable[str]) -> ListFilter:
        """Lenient, like the inbox's filters: an unknown status is ignored, not an error."""
        status = args.get("status", "")
        return cls(status=status if status in set(statuses) else "", words=str(args.get("q", "")).strip()[:200])

    def apply(self, items: Sequence[T], status_of: Callable[[T], str], texts_of: Callable[[T], Iterable[str]]) -> list[T]:
        """The items with the chosen status whose texts contain every word (case-insensitive, å ä ö too)."""
        words = self.words.casefold().split()
        return [item for item in items
                if (not self.status or status_of(item) == self.status)
                and all(any(word in text.casefold() for text in texts_of(item)) for word in words)]
