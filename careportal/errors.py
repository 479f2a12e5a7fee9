"""Errors shown to staff carry an error id that matches a log line, and never a stack trace."""

import logging
import uuid

from django.http import HttpResponseServerError
from django.template import loader

log = logging.getLogger("careportal.errors")


class ErrorIdMiddleware:
    """Give every unhandled exception an id, logged with the traceback and shown on the page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        request.error_id = uuid.uuid4().hex[:12]
        log.error(
            "unhandled error error_id=%s path=%s",
            request.error_id,
            request.path,
            exc_info=exception,
            extra={"error_id": request.error_id},
        )
        return None  # Django goes on to handler500


def server_error(request, *args, **kwargs):
    # Rendered without a RequestContext: the database may be the thing that is down.
    error_id = getattr(request, "error_id", None) or uuid.uuid4().hex[:12]
    html = loader.get_template("500.html").render({"error_id": error_id})
    return HttpResponseServerError(html)
