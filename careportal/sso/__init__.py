"""Single sign-on: staff sign in through the operator's Keycloak over OpenID Connect.

Built on mozilla-django-oidc. See docs/sso.md for the set-up and the settings.
"""
