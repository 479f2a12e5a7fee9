"""The shared `page` fixture fails a test on any CSP violation: show that it sees them."""

import pytest
from django.http import HttpResponse
from django.urls import path

from careportal import urls

pytestmark = pytest.mark.browser


def _inline(request):
    return HttpResponse(
        "<!DOCTYPE html><html><head><title>before</title></head><body>"
        '<script>document.title = "ran"</script><p style="color: red">styled</p></body></html>'
    )


def _with_nonce(request):
    return HttpResponse(
        "<!DOCTYPE html><html><head><title>before</title></head><body>"
        f'<script nonce="{request.csp_nonce}">document.title = "ran"</script></body></html>'
    )


@pytest.fixture
def test_pages():
    added = [path("__csp_inline__/", _inline), path("__csp_nonce__/", _with_nonce)]
    urls.urlpatterns.extend(added)
    yield
    del urls.urlpatterns[-len(added) :]


def test_an_inline_script_and_style_without_nonce_are_blocked_and_reported(
    page, live_server, test_pages
):
    page.goto(f"{live_server.url}/__csp_inline__/")
    page.wait_for_function("() => document.readyState === 'complete'")
    page.wait_for_timeout(200)  # violation events are dispatched as tasks

    assert page.title() == "before"  # the script never ran
    seen = "\n".join(page.policy_violations)
    assert "script-src-elem blocked inline" in seen
    assert "style-src-attr blocked inline" in seen
    page.policy_violations.clear()  # seen and checked: this test must not fail at teardown


def test_an_inline_script_with_the_request_nonce_runs(page, live_server, test_pages):
    page.goto(f"{live_server.url}/__csp_nonce__/")

    page.wait_for_function("() => document.title === 'ran'")
    assert page.policy_violations == []
