"""maxResults/nextToken paging for the List* calls moto does not page."""

from __future__ import annotations

import base64
from typing import Any, Sequence

from moto.ecs.exceptions import InvalidParameterException

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 100
_PREFIX = "deckhand-world:"


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{offset}".encode()).decode()


def _decode(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        if not text.startswith(_PREFIX):
            raise ValueError(token)
        offset = int(text[len(_PREFIX) :])
        if offset < 0:
            raise ValueError(token)
        return offset
    except (ValueError, UnicodeDecodeError):
        raise InvalidParameterException("Invalid nextToken.") from None


def page(
    items: Sequence[Any], max_results: Any, next_token: str | None
) -> tuple[list[Any], str | None]:
    """One page of `items` and the token of the next page (None on the last page). The token is
    an offset into the list as it is at the next call, which is stable enough for listings
    that only grow at the end."""
    if max_results is None:
        size = DEFAULT_PAGE_SIZE
    else:
        size = int(max_results)
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise InvalidParameterException(
                f"maxResults must be between 1 and {MAX_PAGE_SIZE}, got {size}."
            )
    start = _decode(next_token) if next_token else 0
    chunk = list(items[start : start + size])
    end = start + len(chunk)
    return chunk, (_encode(end) if end < len(items) else None)
