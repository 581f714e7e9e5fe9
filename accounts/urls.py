from django.urls import path

from ally360.api.routers import Router

from . import api

router = Router()
router.register("members", api.MemberViewSet, basename="member")
router.register("invitations", api.InvitationViewSet, basename="invitation")

urlpatterns = [
    path("auth/register", api.RegisterView.as_view(), name="auth-register"),
    path("auth/verify-email", api.VerifyEmailView.as_view(), name="auth-verify-email"),
    path(
        "auth/verify-email/resend",
        api.ResendVerificationView.as_view(),
        name="auth-verify-email-resend",
    ),
    path("auth/login", api.LoginView.as_view(), name="auth-login"),
    path("auth/refresh", api.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", api.LogoutView.as_view(), name="auth-logout"),
    path("auth/select-company", api.SelectCompanyView.as_view(), name="auth-select-company"),
    path("auth/me", api.MeView.as_view(), name="auth-me"),
    path("auth/password-reset", api.PasswordResetView.as_view(), name="auth-password-reset"),
    path(
        "auth/password-reset/confirm",
        api.PasswordResetConfirmView.as_view(),
        name="auth-password-reset-confirm",
    ),
    path("auth/change-password", api.ChangePasswordView.as_view(), name="auth-change-password"),
    path("companies/", api.CompanyListCreateView.as_view(), name="company-list"),
    path("companies/current/", api.CurrentCompanyView.as_view(), name="company-current"),
    path("invitations/accept", api.InvitationAcceptView.as_view(), name="invitation-accept"),
    *router.urls,
]
