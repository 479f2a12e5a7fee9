"""Sign-in through the real provider: the code flow, accounts matched on the subject, roles."""

import base64
import hashlib
from urllib.parse import parse_qs

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from careportal.sso.models import SsoIdentity
from entitlements.roles import CARE_AGENT, CARE_SUPERVISOR

from .fixtures import keycloak_claims

pytestmark = pytest.mark.django_db
User = get_user_model()


def signed_in_user(client):
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def test_anonymous_admin_visit_goes_to_the_provider(sso_browser, oidc_provider):
    page = sso_browser.go("/admin/")

    assert sso_browser.at_provider_login(page)
    assert "Authorize Client" in page.text
    assert sso_browser.urls()[:3] == [
        "http://testserver/admin/",
        "http://testserver/admin/login/?next=/admin/",
        "http://testserver/oidc/authenticate/?next=%2Fadmin%2F",
    ]
    query = page.query
    assert query["client_id"] == ["care-portal"]
    assert query["response_type"] == ["code"]
    assert query["redirect_uri"] == ["http://testserver/oidc/callback/"]
    assert set(query["scope"][0].split()) >= {"openid", "profile", "email"}
    assert query["state"] and query["nonce"]


def test_agent_signs_in_and_gets_the_agent_group_only(sso_browser, op_user):
    sub = op_user("alice", ["care-agent", "offline_access"])

    page = sso_browser.sign_in(sub)

    assert (page.path, page.status) == ("/admin/", 200)
    user = signed_in_user(sso_browser.client)
    assert user.username == "alice"
    assert user.sso_identity.subject == sub
    assert user.sso_identity.issuer == sso_browser.provider.url
    assert list(user.groups.values_list("name", flat=True)) == [CARE_AGENT]
    assert user.is_staff and user.is_active and not user.is_superuser
    assert not user.has_usable_password()
    assert (user.first_name, user.last_name, user.email) == (
        "Alice",
        "Tester",
        "alice@staff.example",
    )
    assert user.has_perm("entitlements.change_entitlement_product")
    assert not user.has_perm("entitlements.view_changeattempt")
    assert sso_browser.client.session["_auth_user_backend"] == "careportal.sso.backends.SsoBackend"


def test_supervisor_signs_in_and_may_read_the_audit_log(sso_browser, op_user):
    sub = op_user("sam", ["care-supervisor"])

    page = sso_browser.sign_in(sub)

    assert (page.path, page.status) == ("/admin/", 200)
    user = signed_in_user(sso_browser.client)
    assert list(user.groups.values_list("name", flat=True)) == [CARE_SUPERVISOR]
    assert user.has_perm("entitlements.view_changeattempt")


def test_both_roles_give_both_groups(sso_browser, op_user):
    sub = op_user("both", ["care-agent", "care-supervisor"])
    sso_browser.sign_in(sub)
    user = signed_in_user(sso_browser.client)
    assert set(user.groups.values_list("name", flat=True)) == {CARE_AGENT, CARE_SUPERVISOR}


@pytest.mark.parametrize(
    ("claim_path", "claims"),
    [
        ("realm_access.roles", {"realm_access": {"roles": ["care-supervisor"]}}),
        (
            "resource_access.care-portal.roles",
            {
                "realm_access": {"roles": ["care-agent"]},  # not the configured path: ignored
                "resource_access": {"care-portal": {"roles": ["care-supervisor"]}},
            },
        ),
        (
            "resource_access.care.portal.roles",  # a client id with dots
            {"resource_access": {"care.portal": {"roles": ["care-supervisor"]}}},
        ),
        ("groups", {"groups": ["care-supervisor", "everyone"]}),
    ],
)
def test_role_claim_paths(settings, sso_browser, op_user, claim_path, claims):
    settings.OIDC_ROLES_CLAIM = claim_path
    sub = op_user(claims={"preferred_username": "pat", **claims})

    page = sso_browser.sign_in(sub)

    assert (page.path, page.status) == ("/admin/", 200)
    user = signed_in_user(sso_browser.client)
    assert list(user.groups.values_list("name", flat=True)) == [CARE_SUPERVISOR]


def test_roles_at_another_path_do_not_count(settings, sso_browser, op_user):
    settings.OIDC_ROLES_CLAIM = "groups"
    sub = op_user("rita", ["care-agent"])  # realm roles only
    page = sso_browser.sign_in(sub)
    assert page.status == 403
    assert not SsoIdentity.objects.filter(subject=sub).exists()


def test_role_names_are_configurable(settings, sso_browser, op_user):
    settings.OIDC_AGENT_ROLE = "portal_agent"
    settings.OIDC_SUPERVISOR_ROLE = "portal_lead"
    agent = op_user("cfg-agent", ["portal_agent"])
    old_name = op_user("cfg-old", ["care-agent"])

    assert sso_browser.sign_in(agent).status == 200
    assert signed_in_user(sso_browser.client).groups.get().name == CARE_AGENT

    sso_browser.client.logout()
    sso_browser.op.cookies.clear()
    page = sso_browser.sign_in(old_name)
    assert page.status == 403 and "portal_agent" in page.text


def test_no_role_is_refused_with_a_clear_page_and_no_account(sso_browser, op_user, sso_log):
    sub = op_user("nora", ["offline_access", "uma_authorization"])
    users_before = User.objects.count()

    page = sso_browser.sign_in(sub)

    assert (page.path, page.status) == ("/oidc/callback/", 403)
    assert "No access to the Care Portal" in page.text
    assert "care-agent" in page.text and "care-supervisor" in page.text
    assert "Sign in as someone else" in page.text
    assert User.objects.count() == users_before
    assert not SsoIdentity.objects.filter(subject=sub).exists()
    assert "_auth_user_id" not in sso_browser.client.session
    refused = [r.getMessage() for r in sso_log if "sso refused" in r.getMessage()]
    assert len(refused) == 1
    assert "user=nora" in refused[0] and f"sub={sub}" in refused[0]
    assert "reason=no_role" in refused[0] and "ip=127.0.0.1" in refused[0]
    # The admin stays closed.
    assert sso_browser.client.get("/admin/").status_code == 302


def test_an_existing_user_whose_roles_are_gone_is_refused_and_loses_staff(sso_browser, op_user):
    sub = op_user("gone", ["care-agent"])
    sso_browser.sign_in(sub)
    user = signed_in_user(sso_browser.client)
    sso_browser.client.logout()
    sso_browser.op.cookies.clear()
    sso_browser.provider.set_user(sub, keycloak_claims("gone", []))

    page = sso_browser.sign_in(sub)

    assert page.status == 403
    user.refresh_from_db()
    assert not user.is_staff and not user.groups.exists()
    assert "_auth_user_id" not in sso_browser.client.session


def test_email_collision_does_not_sign_in_as_the_local_user(sso_browser, op_user):
    local = User.objects.create_user(
        "agent2", email="shared@example.com", password="agent2-password-123", is_staff=True
    )
    local.groups.add(Group.objects.get(name=CARE_SUPERVISOR))
    sub = op_user(claims=keycloak_claims("agent2", ["care-agent"], email="shared@example.com"))

    page = sso_browser.sign_in(sub)

    assert page.status == 200
    user = signed_in_user(sso_browser.client)
    assert user.pk != local.pk
    assert user.username == "agent2-2"
    assert user.email == "shared@example.com"
    assert list(user.groups.values_list("name", flat=True)) == [CARE_AGENT]
    local.refresh_from_db()
    assert local.has_usable_password() and not hasattr(local, "sso_identity")
    assert list(local.groups.values_list("name", flat=True)) == [CARE_SUPERVISOR]


def test_the_same_subject_is_the_same_account_whatever_its_name_and_email(sso_browser, op_user):
    sub = op_user("first-name", ["care-agent"])
    sso_browser.sign_in(sub)
    first = signed_in_user(sso_browser.client)
    first.set_password("someone-set-this")  # SSO accounts never keep a usable password
    first.save()

    sso_browser.client.logout()
    sso_browser.op.cookies.clear()
    sso_browser.provider.set_user(
        sub, keycloak_claims("renamed", ["care-agent"], email="new@staff.example")
    )
    sso_browser.sign_in(sub)

    again = signed_in_user(sso_browser.client)
    assert again.pk == first.pk
    assert again.username == "first-name"  # the username stays; it is never used to match
    assert again.email == "new@staff.example"
    assert not again.has_usable_password()


def test_pkce_from_the_client_side(settings, sso_browser, op_user, relay):
    """The mock does not verify PKCE, so check what the portal sends: an S256 challenge on
    the authorization request, and the matching verifier on the token request."""
    token_relay = relay()
    settings.OIDC_OP_TOKEN_ENDPOINT = token_relay.url + "/oauth2/token"
    sub = op_user("pkce", ["care-agent"])

    page = sso_browser.go("/admin/")
    challenge = page.query["code_challenge"][0]
    assert page.query["code_challenge_method"] == ["S256"]
    state = page.query["state"][0]
    verifier = sso_browser.client.session["oidc_states"][state]["code_verifier"]
    assert 43 <= len(verifier) <= 128
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert challenge == expected.decode()

    page = sso_browser.choose(page, sub)

    assert page.status == 200
    [token_request] = token_relay.requests
    body = parse_qs(token_request["body"])
    assert body["grant_type"] == ["authorization_code"]
    assert body["code_verifier"] == [verifier]
    assert body["redirect_uri"] == ["http://testserver/oidc/callback/"]
    # Used once: the state (and its verifier) are gone from the session.
    assert state not in sso_browser.client.session.get("oidc_states", {})


def test_a_replayed_callback_is_refused(sso_browser, op_user):
    sub = op_user("replay", ["care-agent"])
    sso_browser.sign_in(sub)
    callback = next(url for url in sso_browser.urls() if "/oidc/callback/?code=" in url)
    sso_browser.client.logout()

    page = sso_browser.go(callback)

    assert page.status == 400
    assert "Sign-in failed" in page.text
    assert "_auth_user_id" not in sso_browser.client.session


def test_a_replayed_callback_does_not_end_a_session(sso_browser, op_user):
    sub = op_user("back-button", ["care-agent"])
    sso_browser.sign_in(sub)
    callback = next(url for url in sso_browser.urls() if "/oidc/callback/?code=" in url)

    page = sso_browser.go(callback)

    assert (page.path, page.status) == ("/admin/", 200)
    assert signed_in_user(sso_browser.client).sso_identity.subject == sub


def test_denied_at_the_provider(sso_browser):
    page = sso_browser.go("/admin/")
    page = sso_browser.go(page.url, method="post", data={"action": "deny"})
    assert page.status == 403
    assert "Sign-in was not completed" in page.text


def test_the_admin_login_page_never_shows_a_password_form(client):
    response = client.get("/admin/login/?next=/admin/entitlements/")
    assert response.status_code == 302
    assert response["Location"] == "/oidc/authenticate/?next=%2Fadmin%2Fentitlements%2F"
    # An outside next is dropped.
    response = client.get("/admin/login/?next=https://evil.example/")
    assert response["Location"] == "/oidc/authenticate/?next=%2Fadmin%2F"


def test_the_demo_users(sso_browser):
    """The demo provider's own users, as a newcomer meets them."""
    for sub, group in (("agent", CARE_AGENT), ("supervisor", CARE_SUPERVISOR)):
        page = sso_browser.sign_in(sub)
        assert page.status == 200, sub
        user = signed_in_user(sso_browser.client)
        assert (user.username, user.groups.get().name) == (sub, group)
        sso_browser.client.logout()
        sso_browser.op.cookies.clear()
    assert sso_browser.sign_in("nobody").status == 403


def test_the_admin_login_page_for_someone_signed_in(client, agent, django_user_model):
    client.force_login(agent)
    response = client.get("/admin/login/?next=/admin/")
    assert (response.status_code, response["Location"]) == (302, "/admin/")

    plain = django_user_model.objects.create_user("plain")  # signed in, not staff
    client.force_login(plain)
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 403
    assert "No access to the Care Portal" in response.content.decode()


def test_log_lines_cannot_be_forged_through_claims(sso_browser, op_user, sso_log):
    sub = op_user(claims={"preferred_username": 'x" reason=ok\nsso sign-in user=root'})
    sso_browser.sign_in(sub)
    [line] = [r.getMessage() for r in sso_log if r.getMessage().startswith("sso refused")]
    assert "\n" not in line
    assert 'user="x\\" reason=ok sso sign-in user=root"' in line


def test_two_first_sign_ins_at_once_make_one_account(sso_browser, op_user):
    """The second request finds the account the first one made (unique subject)."""
    from careportal.sso.backends import SsoBackend

    sub = op_user("twice", ["care-agent"])
    sso_browser.sign_in(sub)
    first = signed_in_user(sso_browser.client)

    again = SsoBackend().create_user(keycloak_claims("twice", ["care-agent"], sub=sub))

    assert again.pk == first.pk
    assert SsoIdentity.objects.filter(subject=sub).count() == 1
