"""People: profiles (editable) and admin accounts (read-only; the password hash never shown)."""

from __future__ import annotations

from pixcrawler.admin.base import ReadOnlyModelView, SecureModelView
from pixcrawler.models import Role


def choices(enum) -> list[tuple[str, str]]:
    """Select-box choices from a StrEnum, so forms accept exactly what the CHECK allows."""
    return [(member.value, member.value) for member in enum]


class ProfileAdmin(SecureModelView):
    column_list = ("email", "full_name", "role", "created_at")
    column_searchable_list = ("email", "full_name")
    column_filters = ("role",)
    column_default_sort = ("email", False)
    column_details_exclude_list = ("admin_account",)
    form_columns = ("email", "full_name", "avatar_url", "role")
    form_choices = {"role": choices(Role)}


class AdminAccountAdmin(ReadOnlyModelView):
    """Who can log in, and whether they are locked out; passwords change with the CLI."""

    # Listed explicitly everywhere so that password_hash can never appear on a page or export.
    column_list = ("profile", "failed_logins", "locked_until", "last_login_at", "created_at")
    column_details_list = column_list
    column_export_list = column_list
    column_labels = {"profile": "Email"}
    column_searchable_list = ("profile.email",)
    column_sortable_list = ("failed_logins", "last_login_at", "created_at")
