"""The OPF client's session reads the environment's proxy and CA settings as requests does,
once per host instead of on every request (entitlements/opf/transport.py)."""

import requests

from entitlements.opf.transport import build_session

OPF = "http://127.0.0.1:9/tpes/v1/operator/entitlements/E1/actions/changeProduct"
ELSEWHERE = "http://opf.example:8080/tpes/v1/operator/entitlements"


def _settings(session, url):
    return session.merge_environment_settings(url, {}, True, None, None)


def test_the_environment_gives_what_requests_reads_from_it(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/operator-ca.pem")
    ours, theirs = build_session(), requests.Session()
    for url in (OPF, ELSEWHERE):
        assert _settings(ours, url) == _settings(theirs, url)
    assert _settings(ours, ELSEWHERE)["proxies"]["http"] == "http://proxy.invalid:3128"
    assert "http" not in _settings(ours, OPF)["proxies"]  # NO_PROXY
    assert _settings(ours, OPF)["verify"] == "/etc/ssl/certs/operator-ca.pem"


def test_the_environment_is_read_once_per_host(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    session = build_session()
    assert _settings(session, ELSEWHERE)["proxies"]["http"] == "http://proxy.invalid:3128"
    monkeypatch.setenv("HTTP_PROXY", "http://other.invalid:3128")
    assert _settings(session, ELSEWHERE)["proxies"]["http"] == "http://proxy.invalid:3128"
    # Given with the request, a setting is the request's, as in requests.
    given = session.merge_environment_settings(ELSEWHERE, {}, True, False, None)
    assert given["verify"] is False
    # A copy each time: requests may change the proxies it was given.
    _settings(session, ELSEWHERE)["proxies"]["http"] = "changed"
    assert _settings(session, ELSEWHERE)["proxies"]["http"] == "http://proxy.invalid:3128"
