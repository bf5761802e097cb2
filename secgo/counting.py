"""Counts that stop: a list says "more than N" instead of reading a million rows to say how
many. The orders and issues lists (pages and API) count the rows up to COUNT_AHEAD past the
start of the page asked for: enough for every page link a person follows, and the same cost
with a million orders as with a thousand."""
from sqlalchemy import Integer, bindparam, func, select

from .extensions import db

COUNT_AHEAD = 1000


def count_up_to(stmt, limit: int) -> int:
    """How many rows stmt gives, counting no further than limit."""
    return db.session.scalar(select(func.count()).select_from(stmt.limit(limit).subquery()))


def page_count(total: int, per_page: int, page: int, more: bool) -> int:
    """Pages of a list of total rows (at least one); when more were not counted, at least one
    past this page."""
    pages = max(1, -(-total // per_page))
    return max(pages, page + 1) if more else pages


def count_statement(stmt):
    """SELECT the number of stmt's rows, counting no further than the bind "count_limit" (a
    statement built once and run many times: see total_from)."""
    return select(func.count()).select_from(stmt.limit(bindparam("count_limit", type_=Integer)).subquery())


def total_from(stmt, offset: int, binds: dict | None = None) -> tuple[int, bool]:
    """(total, more) for a page starting at offset: the rows counted up to COUNT_AHEAD past
    it, and whether there are more than that. stmt: the rows to count, or a count_statement()
    run with these binds."""
    if binds is not None:
        return total_and_more_from(stmt, offset, binds)[:2]
    limit = max(0, offset) + COUNT_AHEAD
    counted = count_up_to(stmt, limit + 1)
    return min(counted, limit), counted > limit


def total_and_more_from(stmt, offset: int, binds: dict) -> tuple[int, bool, tuple]:
    """total_from's (total, more) for a count_statement() run with these binds, and the
    other columns added to it (read in the same query)."""
    limit = max(0, offset) + COUNT_AHEAD
    counted, *rest = db.session.execute(stmt, {**binds, "count_limit": limit + 1}).one()
    return min(counted, limit), counted > limit, tuple(rest)
