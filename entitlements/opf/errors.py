"""The OPF client's exception hierarchy.

OPF's answers are never raised: `OpfClient.change_product` returns them as results. These types
exist for the two things that are not answers: the request could not be sent at all (`NotSent`,
used inside the client and by the token provider), and the caller passed an identifier that must
never reach a URL (`InvalidIdentifier`, a validation error the caller should have prevented).
"""


class OpfError(Exception):
    """Base class for trouble talking to OPF."""


class NotSent(OpfError):
    """Nothing reached OPF, so nothing changed there; trying again later is safe."""


class TokenUnavailable(NotSent):
    """The Keycloak token endpoint gave no usable access token.

    The message is plain words for operators and never contains a secret or a token.
    """


class InvalidIdentifier(ValueError):
    """An entitlement, product or correlation id unsafe to send; raised before any request."""
