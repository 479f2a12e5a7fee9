"""Errors shown to staff carry an error id that matches a log line, and never a stack trace.

Only real errors are logged as errors. Django answers Http404, PermissionDenied and
SuspiciousOperation itself (404, 403, 400): those are refused requests, which anyone can
produce at will, so they must not fill the error log with tracebacks.
"""

import logging
import uuid

from django.http import HttpResponseServerError
from django.template import loader

log = logging.getLogger("careportal.errors")


def log_uncaught_exception(sender, request=None, **kwargs):
    """Receiver of Django's `got_request_exception`: every exception that becomes a 500.

    Django sends it for exceptions raised in views and in middleware alike (the session or
    authentication middleware when the database is down), inside its `except` block, before it
    calls handler500: the id given here is the one the error page shows.
    """
    error_id = uuid.uuid4().hex[:12]
    if request is not None:
        request.error_id = error_id
    log.error(
        "unhandled error error_id=%s path=%s",
        error_id,
        getattr(request, "path", "-"),
        exc_info=True,
        extra={"error_id": error_id},
    )


class RequestLogFilter(logging.Filter):
    """On the log handlers: one line per 500, and refused requests are warnings.

    Django's own "Internal Server Error" line repeats the traceback without the error id, after
    `log_uncaught_exception` logged both; it is dropped. Django logs a SuspiciousOperation (a
    forged Host header, a bad session cookie) at ERROR with a traceback: it is a 400 for a
    request that was refused, kept as a WARNING with its reason, without the traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if record.name == "django.request" and getattr(request, "error_id", None):
            return False
        if record.name.startswith("django.security.") and record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = None
        return True


def server_error(request, *args, **kwargs):
    # Rendered without a RequestContext: the database may be the thing that is down.
    error_id = getattr(request, "error_id", None) or uuid.uuid4().hex[:12]
    # Its one inline style carries the request's CSP nonce (django-csp).
    nonce = getattr(request, "csp_nonce", "")
    html = loader.get_template("500.html").render({"error_id": error_id, "csp_nonce": nonce})
    return HttpResponseServerError(html)
