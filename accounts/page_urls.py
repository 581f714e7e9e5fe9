"""Sign-in and invitation pages (mounted at / by ally360.urls, namespace "pages")."""

from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("company/", views.company_view, name="company"),
    # The paths of the e-mails' links (`FRONTEND_URL` is this server by default).
    path("accept-invitation", views.invitation_accept_view, name="invitation-accept"),
    path("verify-email", views.email_verify_view, name="email-verify"),
    path("password-reset/", views.password_reset_request_view, name="password-reset-request"),
    path("reset-password", views.password_reset_view, name="password-reset"),
    path("members/", views.members_view, name="members"),
    path("members/<uuid:pk>/", views.member_update_view, name="member-update"),
    path("members/<uuid:pk>/remove/", views.member_remove_view, name="member-remove"),
    path(
        "members/invitations/<uuid:pk>/revoke/",
        views.invitation_revoke_view,
        name="invitation-revoke",
    ),
]
