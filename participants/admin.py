from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import Membership, Participant, Site, SiteLabUnit, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(User)
class AppUserAdmin(UserAdmin):
    inlines = [MembershipInline]
    fieldsets = (*UserAdmin.fieldsets, ("Signature", {"fields": ("full_name",)}))  # type: ignore[misc]
    list_display = ("username", "full_name", "email", "is_active", "is_staff")


class SiteLabUnitInline(admin.TabularInline):
    """The units the site's laboratory reports in: the screening visit form pre-selects them."""

    model = SiteLabUnit
    extra = 0


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    inlines = [SiteLabUnitInline]
    list_display = ("code", "name")
    readonly_fields = ("last_screening_sequence",)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "site")
    list_filter = ("role", "site")


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    """Clinical records are read-only here: they change only through the application's services."""

    list_display = ("screening_number", "site", "cohort", "created_at")
    list_filter = ("site", "cohort")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
