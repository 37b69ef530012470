"""Pagination: paginators that never do I/O, and the iterators that drive them.

See :mod:`apinotebook.paginate._iterate` for the rules ``paginator="auto"`` follows.
"""

from apinotebook.paginate._iterate import (
    PAGINATORS,
    AsyncPageIterator,
    BasePaginator,
    HeaderCursorPaginator,
    HeaderLinkPaginator,
    ItemCursorPaginator,
    JSONLinkPaginator,
    JSONResponseCursorPaginator,
    OffsetPaginator,
    PagedClient,
    PageIterator,
    PageNumberPaginator,
    PageRequest,
    SinglePagePaginator,
    apaginate,
    detect_paginator,
    find_items,
    paginate,
)

__all__ = [
    "PAGINATORS",
    "AsyncPageIterator",
    "BasePaginator",
    "HeaderCursorPaginator",
    "HeaderLinkPaginator",
    "ItemCursorPaginator",
    "JSONLinkPaginator",
    "JSONResponseCursorPaginator",
    "OffsetPaginator",
    "PageIterator",
    "PageNumberPaginator",
    "PageRequest",
    "PagedClient",
    "SinglePagePaginator",
    "apaginate",
    "detect_paginator",
    "find_items",
    "paginate",
]
