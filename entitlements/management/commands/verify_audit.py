"""Cron-able check of the audit's hash chain (docs/audit.md): one line, exit 0 when intact."""

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from entitlements.audit_chain import Link


def _date(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--since {text!r}: not a date (YYYY-MM-DD or ISO 8601)") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _anchor(text: str) -> Link:
    sequence, _, digest = text.partition(":")
    if not sequence.isdigit() or len(digest) != 64:
        raise CommandError(f"--anchor {text!r}: expected SEQUENCE:HASH as --print-head prints it")
    return Link(int(sequence), digest.lower())


class Command(BaseCommand):
    help = (
        "Verify the audit's hash chain and every sealed record against its seal. Prints one "
        "line; exits 0 when intact, 1 naming the first broken seal and what is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", help="check from the first seal sealed on or after DATE")
        parser.add_argument(
            "--anchor", help="SEQUENCE:HASH recorded earlier with --print-head: must still hold"
        )
        parser.add_argument(
            "--print-head", action="store_true", help="print the newest seal as SEQUENCE:HASH"
        )

    def handle(self, *args, **options):
        from entitlements import audit_verify

        if options["print_head"]:
            head = audit_verify.head()
            if head is None:
                raise CommandError("the audit chain is empty: nothing sealed yet")
            self.stdout.write(f"{head.sequence}:{head.hash}")
            return
        since = _date(options["since"]) if options["since"] else None
        anchor = _anchor(options["anchor"]) if options["anchor"] else None
        report = audit_verify.verify(since=since, anchor=anchor)
        broken = report.first_break
        if broken is not None:
            raise CommandError(f"audit chain broken at {broken}")
        if report.head is None:
            self.stdout.write(f"audit chain intact: nothing sealed{' since then' if since else ''}")
            return
        rate = report.seals / report.seconds if report.seconds else 0
        head = f"{report.head.sequence}:{report.head.hash}"
        self.stdout.write(
            f"audit chain intact: {report.seals} seals from {report.first}, "
            f"{report.records} records match their seals ({report.predating} predate the chain), "
            f"head {head}, {report.seconds:.2f} s ({rate:,.0f} seals/s)"
        )
