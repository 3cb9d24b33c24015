"""Filtering by a list of ids with one bound parameter, whatever the list's length.

`column IN (:id_1, :id_2, ...)` is a new statement for every length of the list: SQLAlchemy
renders one placeholder per id on every execution, and psycopg parses the long statement
again (it only caches short ones). At a hundred ids that cost more than PostgreSQL running
the query. On PostgreSQL, `ids_in` binds the whole list as one array: `column = ANY(:ids)`.
SQLite keeps the plain IN list: its driver is cheap, and its planner reads an IN list of
integers by primary key. (Listing cards, twenty ids a page, showed no difference either way.)
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Integer, any_, literal
from sqlalchemy.dialects.postgresql import ARRAY

from marketplace.extensions import on_postgresql


def ids_in(column, ids: Iterable[int]):
    """`column` is one of `ids` (a list of integers), as one parameter on PostgreSQL."""
    ids = [int(i) for i in ids]
    if on_postgresql():
        return column == any_(literal(ids, ARRAY(Integer)))
    return column.in_(ids)

