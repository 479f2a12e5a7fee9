"""List filters for the entitlement list and the audit log.

Each filter's choices come from a small table (the catalogue, the role groups) or are fixed,
never from a DISTINCT over the large tables; the agent and date filters take typed input.
"""

from datetime import date, datetime, time, timedelta

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils import timezone

from ..models import Product
from ..roles import CARE_AGENT, CARE_SUPERVISOR


def _last(value):
    # Filter params arrive as lists of the query string's values.
    return value[-1] if isinstance(value, list) else value


class ProviderFilter(admin.SimpleListFilter):
    title = "provider"
    parameter_name = "provider"

    def lookups(self, request, model_admin):
        providers = (
            Product.objects.order_by("provider_id")
            .values_list("provider_id", "provider_name")
            .distinct()
        )
        names = {}
        for provider_id, name in providers:  # the catalogue's display name, else the id
            names[provider_id] = names.get(provider_id) or name or provider_id
        return sorted(names.items(), key=lambda item: item[1].lower())

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(provider_id=self.value())
        return queryset


class AwaitingConfirmationFilter(admin.SimpleListFilter):
    title = "awaiting confirmation"
    parameter_name = "awaiting"

    def lookups(self, request, model_admin):
        return [("yes", "Awaiting confirmation"), ("no", "Not awaiting")]

    def queryset(self, request, queryset):
        # With "yes" the list is ordered by pending_since (EntitlementAdmin.get_ordering), so
        # the partial index `entitlement_pending` serves filter and order alike.
        if self.value() == "yes":
            return queryset.filter(pending_product__isnull=False)
        if self.value() == "no":
            return queryset.filter(pending_product__isnull=True)
        return queryset


class InputFilter(admin.ListFilter):
    """A filter the user types into (a small GET form in the filter sidebar).

    Subclasses name their `parameters` as (query parameter, label, input type) and implement
    `queryset`; `self.values` holds the non-empty ones given.
    """

    template = "admin/entitlements/input_filter.html"
    parameters: tuple[tuple[str, str, str], ...] = ()

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.values = {}
        for name, _label, _type in self.parameters:
            if name in params:
                value = (_last(params.pop(name)) or "").strip()
                if value:
                    self.values[name] = value

    def has_output(self):
        return True

    def expected_parameters(self):
        return [name for name, _label, _type in self.parameters]

    def suggestions(self) -> list[str]:
        return []

    def choices(self, changelist):
        own = set(self.expected_parameters())
        yield {
            "fields": [
                {"name": name, "label": label, "type": type_, "value": self.values.get(name, "")}
                for name, label, type_ in self.parameters
            ],
            # The rest of the current query (search, other filters), kept by the form.
            "hidden": [(k, v) for k, v in changelist.params.items() if k not in own],
            "clear_query_string": changelist.get_query_string(remove=own),
            "selected": bool(self.values),
            "suggestions": self.suggestions(),
            "datalist_id": f"{self.expected_parameters()[0]}-suggestions",
        }


class AgentFilter(InputFilter):
    """The agent who made the change: typed, since a big care centre has many."""

    title = "agent"
    parameters = (("actor_username", "Username", "text"),)

    def suggestions(self) -> list[str]:
        users = get_user_model().objects.filter(groups__name__in=[CARE_AGENT, CARE_SUPERVISOR])
        field = get_user_model().USERNAME_FIELD
        return list(users.order_by(field).values_list(field, flat=True).distinct()[:500])

    def queryset(self, request, queryset):
        if "actor_username" in self.values:
            return queryset.filter(actor_username=self.values["actor_username"])
        return queryset


class CreatedFilter(InputFilter):
    """When the change was made: today, the last 7 or 30 days, or from / to dates.

    Replaces `date_hierarchy`, whose year and month links need a scan of the whole table.
    """

    title = "date"
    template = "admin/entitlements/date_filter.html"
    parameters = (
        ("created", "", "hidden"),
        ("created_from", "From", "date"),
        ("created_to", "To", "date"),
    )
    ranges = (("today", "Today"), ("7d", "Past 7 days"), ("30d", "Past 30 days"))

    def queryset(self, request, queryset):
        now = timezone.localtime()
        since = {
            "today": now.replace(hour=0, minute=0, second=0, microsecond=0),
            "7d": now - timedelta(days=7),
            "30d": now - timedelta(days=30),
        }.get(self.values.get("created"))
        if since:
            queryset = queryset.filter(created_at__gte=since)
        start = _day_start(self.values.get("created_from"))
        if start:
            queryset = queryset.filter(created_at__gte=start)
        end = _day_start(self.values.get("created_to"))
        if end:
            queryset = queryset.filter(created_at__lt=end + timedelta(days=1))
        return queryset

    def choices(self, changelist):
        [form] = super().choices(changelist)
        current = self.values.get("created")
        form["ranges"] = [
            {
                "display": "Any date",
                "selected": not self.values,
                "query_string": changelist.get_query_string(remove=self.expected_parameters()),
            }
        ] + [
            {
                "display": label,
                "selected": current == key,
                "query_string": changelist.get_query_string(
                    {"created": key}, remove=["created_from", "created_to"]
                ),
            }
            for key, label in self.ranges
        ]
        form["fields"] = [f for f in form["fields"] if f["type"] != "hidden"]
        form["hidden"] = [(k, v) for k, v in form["hidden"] if k != "created"]
        yield form


# Dates a change can have been made on; outside them (e.g. 9999-12-31, whose next day does not
# exist, or year 1, which is BC in UTC east of Greenwich) a date filter is ignored like a typo.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


def _day_start(value: str | None) -> datetime | None:
    """Midnight (portal time zone) of an ISO date, or None when absent, not a date or absurd."""
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        return None
    return timezone.make_aware(datetime.combine(day, time.min))


class SettlementFilter(admin.SimpleListFilter):
    """Settled applied / settled not applied / not settled (issue 10): a settlement is its own
    fact beside the outcome."""

    title = "settlement"
    parameter_name = "settlement"

    def lookups(self, request, model_admin):
        return [
            ("applied", "Settled applied"),
            ("not_applied", "Settled not applied"),
            ("none", "Not settled"),
        ]

    def queryset(self, request, queryset):
        if self.value() in ("applied", "not_applied"):
            return queryset.filter(settlement=self.value())
        if self.value() == "none":
            return queryset.filter(settlement="")
        return queryset
