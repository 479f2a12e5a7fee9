"""The catalogue: agents only view it (their role has view_product alone)."""

from django.contrib import admin

from ..models import Product
from .mixins import NamedAdminMixin


@admin.register(Product)
class ProductAdmin(NamedAdminMixin, admin.ModelAdmin):
    index_name = "Catalogue"
    list_title = "Catalogue"
    list_display = ("name", "opf_id", "provider_id", "tier", "active")
    list_filter = ("provider_id", "active")
    search_fields = ("opf_id", "name")
    ordering = ("provider_id", "tier", "opf_id")
    list_per_page = 100
