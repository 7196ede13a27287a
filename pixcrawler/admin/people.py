"""People: profiles (editable) and admin accounts (read-only; the password hash never shown)."""

from __future__ import annotations

from enum import StrEnum

from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from pixcrawler.admin.base import ReadOnlyModelView, SecureModelView
from pixcrawler.models import Role


def enum_select(enum: type[StrEnum]) -> dict:
    """A select box with exactly the values the column's CHECK constraint allows."""
    return {"choices": [SelectChoice(member.value, member.value) for member in enum]}


class ProfileAdmin(SecureModelView):
    column_list = ("email", "full_name", "role", "created_at")
    column_searchable_list = ("email", "full_name")
    column_filters = ("role",)
    column_default_sort = ("email", False)
    column_details_exclude_list = ("admin_account",)
    form_columns = ("email", "full_name", "avatar_url", "role")
    form_overrides = {"role": SelectField}
    form_args = {"role": enum_select(Role)}
    # Deleting a profile cascades to its projects, jobs and images: one at a time, on purpose.
    action_disallowed_list = ("delete",)


class AdminAccountAdmin(ReadOnlyModelView):
    """Who can log in, and whether they are locked out; passwords change with the CLI."""

    # Listed explicitly everywhere so that password_hash can never appear on a page or export.
    column_list = ("profile", "failed_logins", "locked_until", "last_login_at", "created_at")
    column_details_list = column_list
    column_export_list = column_list
    column_labels = {"profile": "Email"}
    column_searchable_list = ("profile.email",)
    column_sortable_list = ("failed_logins", "last_login_at", "created_at")
