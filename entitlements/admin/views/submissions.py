"""One-time submission ids for the change-product confirmation (double submit, matrix X2).

The confirmation page carries a one-time submission id kept in the session. Its first POST marks
it used (saved at once, before OPF is called) and records the attempt; any later POST of it lands
on that attempt's result and sends nothing. Two POSTs racing past the session both reach the
service, whose one-open-change-per-entitlement constraint lets one through; the other finds the
sibling attempt and shows its result.
"""

import secrets
from datetime import datetime

from django.utils import timezone

from ...models import ChangeAttempt, Entitlement

SUBMISSIONS = "entitlements.change_product_submissions"
MAX_SUBMISSIONS = 20


def issue_submission(request, entitlement: Entitlement) -> str:
    token = secrets.token_urlsafe(18)
    submissions = dict(request.session.get(SUBMISSIONS, {}))
    submissions[token] = {
        "entitlement": entitlement.pk,
        "issued_at": timezone.now().isoformat(),
        "used": False,
        "attempt": None,
    }
    newest = sorted(submissions.items(), key=lambda kv: kv[1]["issued_at"])[-MAX_SUBMISSIONS:]
    request.session[SUBMISSIONS] = dict(newest)
    return token


def submission_of(request, token: str, entitlement: Entitlement) -> dict | None:
    """The session's entry for `token`, if it was issued for this entitlement."""
    entry = request.session.get(SUBMISSIONS, {}).get(token)
    if entry is None or entry["entitlement"] != entitlement.pk:
        return None
    return entry


def store_submission(request, token: str, **changes) -> None:
    submissions = dict(request.session.get(SUBMISSIONS, {}))
    submissions[token] = {**submissions[token], **changes}
    request.session[SUBMISSIONS] = submissions


def attempt_of_submission(request, entry: dict, entitlement: Entitlement):
    """The attempt a used submission produced: recorded, or found as this user's newest."""
    if entry.get("attempt"):
        return ChangeAttempt.objects.filter(pk=entry["attempt"]).first()
    return (
        ChangeAttempt.objects.filter(
            entitlement=entitlement,
            user=request.user,
            created_at__gte=datetime.fromisoformat(entry["issued_at"]),
        )
        .order_by("-created_at", "-id")
        .first()
    )
