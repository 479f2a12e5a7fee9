"""Paging that costs the same on a table of a thousand rows or a hundred million.

Django's admin paginator runs COUNT(*) over the filtered list on every page; on a large table
that scans everything. This paginator never counts: it reads the page plus one row, and the
extra row says whether a next page exists. The page template shows "previous / next" instead
of page numbers.
"""

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import PAGE_VAR, ChangeList
from django.core.paginator import EmptyPage, Paginator
from django.utils.functional import cached_property

# No one pages this far (search instead); beyond it the offset would overflow the database's
# integers ("bigint out of range", SQLite "datatype mismatch"), so such a page is empty.
MAX_PAGE_NUMBER = 1_000_000


class LookaheadPaginator(Paginator):
    """Fetches rows `[offset, offset + per_page]` of page `page_number` and nothing else.

    `count` is a lower bound (rows before this page + rows read), which is all the admin's
    ChangeList needs to decide that there is more than one page. Orphans are not supported:
    they would need the total.
    """

    def __init__(
        self, object_list, per_page, orphans=0, allow_empty_first_page=True, *, page_number=1
    ):
        super().__init__(object_list, per_page, 0, allow_empty_first_page)
        self.page_number = max(1, int(page_number))

    @cached_property
    def _offset(self) -> int:
        return (self.page_number - 1) * self.per_page

    @cached_property
    def _window(self) -> list:
        return list(self.object_list[self._offset : self._offset + self.per_page + 1])

    @cached_property
    def count(self) -> int:
        return self._offset + len(self._window)

    @property
    def has_next(self) -> bool:
        return len(self._window) > self.per_page

    @property
    def has_previous(self) -> bool:
        return self.page_number > 1

    def validate_number(self, number):
        number = super().validate_number(number)
        if number > MAX_PAGE_NUMBER:
            raise EmptyPage("That page contains no results")
        return number

    def page(self, number):
        number = self.validate_number(number)
        if number != self.page_number:
            return super().page(number)
        if not self._window and number > 1:
            raise EmptyPage("That page contains no results")
        return self._get_page(self._window[: self.per_page], number, self)

    def get_elided_page_range(self, number=1, *, on_each_side=3, on_ends=2):
        # The admin's pagination tag asks for page numbers; without a total there are none.
        return []


def page_number(request) -> int:
    """The page the admin's ChangeList will show (its own parsing of `?p=`)."""
    try:
        return min(max(1, int(request.GET.get(PAGE_VAR, 1))), MAX_PAGE_NUMBER)
    except ValueError:
        return 1


def refused_text(value: str) -> bool:
    """Query-string text no database column can be compared with: NUL (PostgreSQL refuses it
    in text) and lone surrogates (no UTF-8)."""
    return "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value)


class CheckedChangeList(ChangeList):
    """A changelist that refuses a query string it could only answer with a database error.

    A NUL in any filter or search value becomes the admin's "invalid lookup" answer (a redirect
    to `?e=1`) before any query runs, whichever filter would have met it.
    """

    def __init__(self, request, *args, **kwargs):
        if any(refused_text(k) or refused_text(v) for k, v in request.GET.items()):
            raise IncorrectLookupParameters("A value in the query string cannot be searched for.")
        super().__init__(request, *args, **kwargs)


class LookaheadChangeList(CheckedChangeList):
    def get_results(self, request):
        super().get_results(request)
        if not self.multi_page and isinstance(self.paginator, LookaheadPaginator):
            # A single page: the paginator already holds every row, don't read them again.
            self.result_list = self.paginator._window
