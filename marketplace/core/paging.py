"""Pages of a large listing with a bounded count: "200+ open tasks" instead of count(*).

Counting every matching row costs as much as the search itself at marketplace scale, and
nobody pages through a thousand results. One query reads the ids of the matches in order,
up to the bound (or up to the requested page when it is deeper); their number is the count
shown, exact below the bound. A second query loads the page's rows by primary key. The
result is shaped like Flask-SQLAlchemy's Pagination for the pager macro.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import current_app

from marketplace.extensions import db

# Rows a listing reads at most to reach a deep page: pages past it come back empty, so a
# page number in the millions costs no more than this.
MAX_DEPTH = 10_000


class BoundedPage:
    def __init__(self, items: list, page: int, per_page: int, seen: int, window: int):
        self.items, self.page, self.per_page = items, page, per_page
        self.capped = seen > window          # more matches than were counted
        self.total = min(seen, window)
        self.pages = max(1, -(-self.total // per_page))
        self.has_prev = page > 1
        self.has_next = seen > page * per_page
        self.prev_num, self.next_num = page - 1, page + 1

    @property
    def total_label(self) -> str:
        """The count as shown: exact, or "200+" past the bound."""
        return f"{self.total:,}+" if self.capped else str(self.total)


def bounded_page(ids_statement, load: Callable[[Sequence[int]], list], page: int, per_page: int,
                 key=lambda item: item.id, count_limit: int | None = None) -> BoundedPage:
    """`ids_statement` selects the matching primary keys in display order; `load(ids)` returns
    their rows (in any order, with whatever eager loading the page needs). Matches are counted up
    to `count_limit` (default LISTING_COUNT_LIMIT)."""
    page = max(1, page)
    per_page = max(1, min(per_page, 100))
    limit = current_app.config["LISTING_COUNT_LIMIT"] if count_limit is None else count_limit
    window = min(max(limit, page * per_page), MAX_DEPTH)
    ids = list(db.session.scalars(ids_statement.limit(window + 1)))
    start = (page - 1) * per_page
    wanted = ids[start:start + per_page]
    rows = {key(item): item for item in load(wanted)} if wanted else {}
    return BoundedPage([rows[i] for i in wanted if i in rows], page, per_page, len(ids), window)
