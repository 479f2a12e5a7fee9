"""The OPF client's exception hierarchy.

OPF's answers to a change are never raised: `OpfClient.change_product` returns them as results.
These types exist for the things that are not answers: the request could not be sent at all
(`NotSent`, used inside the client and by the token provider), the caller passed an identifier
that must never reach a URL (`InvalidIdentifier`, a validation error the caller should have
prevented), and a read that gave no page (`ReadFailed`: a read has no outcome to record, and an
iterator over pages cannot return one halfway).
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


class ReadFailed(OpfError):
    """An OPF read gave no usable page. A read changes nothing, so nothing needs reconciling.

    The message is plain words for agents' supervisors and operators, never a secret.
    """

    credentials_refused = False

    def __init__(
        self, message: str, *, correlation_id: str, http_status: int | None = None
    ) -> None:
        super().__init__(message)
        self.correlation_id = correlation_id
        self.http_status = http_status  # of the last answer, None when none came


class OpfUnreachable(ReadFailed):
    """No whole answer: no token, OPF unreachable, timed out, reset or cut the answer short."""


class CredentialsRefused(ReadFailed):
    """OPF answered 401/403 even with a fresh token: the portal's OPF credentials are refused."""

    credentials_refused = True


class UnexpectedAnswer(ReadFailed):
    """OPF answered, but not with a page the adapter can read (another status, another shape)."""
