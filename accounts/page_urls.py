"""Sign-in and invitation pages (mounted at / by ally360.urls, namespace "pages")."""

from django.urls import path

from . import settings_views, views

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("company/", views.company_view, name="company"),
    # The paths of the e-mails' links (`FRONTEND_URL` is this server by default).
    path("accept-invitation", views.invitation_accept_view, name="invitation-accept"),
    path("verify-email", views.email_verify_view, name="email-verify"),
    path("password-reset/", views.password_reset_request_view, name="password-reset-request"),
    path("reset-password", views.password_reset_view, name="password-reset"),
    path("settings/", settings_views.company_settings_view, name="settings"),
    path("settings/logo/", settings_views.logo_set_view, name="settings-logo"),
    path(
        "settings/logo/upload/", settings_views.logo_upload_start_view, name="settings-logo-upload"
    ),
    path("settings/logo/remove/", settings_views.logo_remove_view, name="settings-logo-remove"),
    path("members/", views.members_view, name="members"),
    path("members/<uuid:pk>/", views.member_update_view, name="member-update"),
    path("members/<uuid:pk>/remove/", views.member_remove_view, name="member-remove"),
    path(
        "members/invitations/<uuid:pk>/revoke/",
        views.invitation_revoke_view,
        name="invitation-revoke",
    ),
]
