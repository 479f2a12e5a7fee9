"""Every account id a page shows links to the account page: `{{ id|account_link }}`."""

from django import template
from django.utils.html import format_html

from ..admin.links import account_url

register = template.Library()


@register.filter
def account_link(account_id: str) -> str:
    if not account_id:
        return ""
    url = account_url(account_id)
    return format_html('<a href="{}" class="account-link">{}</a>', url, account_id)
