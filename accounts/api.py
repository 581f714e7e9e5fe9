"""Accounts API: authentication, companies, members and invitations (thin: services do the work)."""

from __future__ import annotations

import contextlib
from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from ally360.api.permissions import RolePermission
from ally360.api.serializers import ModelSerializer, Serializer
from ally360.api.throttling import rate_limit_hit
from ally360.api.viewsets import UUID_PATTERN
from ally360.exceptions import AuthenticationError
from ally360.roles import Role

from . import services
from .limits import client_ip, login_email_limit_wait, login_ip_limit_wait
from .models import Company, Invitation, Membership, User
from .selectors import company_invitations, company_members, user_memberships
from .tokens import context_token_for, tokens_for_user

# ---------------------------------------------------------------------------------------------
# Serializers (shape only)
# ---------------------------------------------------------------------------------------------


class UserSerializer(ModelSerializer):
    email_verified = serializers.BooleanField(source="is_email_verified", read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "phone",
            "email_verified",
            "date_joined",
        ]
        read_only_fields = fields


class CompanySerializer(ModelSerializer):
    # May be blank: a plain string, not format "email", in the schema.
    email = serializers.CharField(read_only=True)

    class Meta:
        model = Company
        fields = [
            "id",
            "name",
            "legal_name",
            "nit",
            "nit_dv",
            "email",
            "phone",
            "address",
            "city",
            "allow_negative_stock",
            "sellers_may_change_price",
            "seller_max_discount_pct",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CompanyInputSerializer(Serializer):
    name = serializers.CharField(max_length=200)
    legal_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    nit = serializers.CharField(max_length=20, help_text="Digits, optionally with -DV: 800197268-4")
    nit_dv = serializers.CharField(
        max_length=1,
        required=False,
        allow_blank=True,
        help_text="Check digit; computed when omitted, verified when given.",
    )
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    allow_negative_stock = serializers.BooleanField(required=False)
    sellers_may_change_price = serializers.BooleanField(
        required=False, help_text="Sellers may type a price other than the price list's."
    )
    seller_max_discount_pct = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(100),
        required=False,
        help_text="The largest line discount a seller may give, in percent (0 to 100).",
    )


class CompanyUpdateSerializer(CompanyInputSerializer):
    def __init__(self, *args, **kwargs):
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)


class CompanyRoleSerializer(Serializer):
    id = serializers.UUIDField(source="company.id")
    name = serializers.CharField(source="company.name")
    nit = serializers.CharField(source="company.nit_display")
    role = serializers.CharField()


class RegisterSerializer(Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    company = CompanyInputSerializer(required=False, help_text="Optional first company.")


class LoginSerializer(Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(style={"input_type": "password"})


class TokenPairSerializer(Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class LoginResponseSerializer(TokenPairSerializer):
    user = UserSerializer()
    companies = CompanyRoleSerializer(many=True)


class TokenOnlySerializer(Serializer):
    token = serializers.CharField()


class EmailOnlySerializer(Serializer):
    email = serializers.EmailField()


class RefreshInputSerializer(Serializer):
    refresh = serializers.CharField()


class SelectCompanySerializer(Serializer):
    company_id = serializers.UUIDField()


class ContextTokenSerializer(Serializer):
    token = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Seconds.")
    company = CompanySerializer()
    role = serializers.CharField()


class MeUpdateSerializer(Serializer):
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)


class MeResponseSerializer(Serializer):
    user = UserSerializer()
    companies = CompanyRoleSerializer(many=True)
    current_company = CompanySerializer(allow_null=True)
    current_role = serializers.CharField(allow_null=True)


class PasswordResetConfirmSerializer(Serializer):
    uid = serializers.CharField()
    token = serializers.CharField()
    new_password = serializers.CharField(style={"input_type": "password"})


class ChangePasswordSerializer(Serializer):
    current_password = serializers.CharField(style={"input_type": "password"})
    new_password = serializers.CharField(style={"input_type": "password"})


class DetailSerializer(Serializer):
    detail = serializers.CharField()


class MemberSerializer(ModelSerializer):
    user = UserSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "role", "is_active", "created_at", "updated_at"]
        read_only_fields = fields


class MemberUpdateSerializer(Serializer):
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    is_active = serializers.BooleanField(required=False)


class InvitationSerializer(ModelSerializer):
    invited_by = serializers.EmailField(source="invited_by.email", read_only=True, default=None)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "role",
            "status",
            "invited_by",
            "expires_at",
            "accepted_at",
            "created_at",
        ]
        read_only_fields = fields


class InvitationCreateSerializer(Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationAcceptSerializer(Serializer):
    token = serializers.CharField()
    password = serializers.CharField(
        required=False,
        style={"input_type": "password"},
        help_text="New account: its password. Existing account: "
        "its password, unless the request is authenticated.",
    )
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)


class MembershipResponseSerializer(Serializer):
    company = CompanySerializer()
    role = serializers.CharField()
    user = UserSerializer()


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def enforce_limit(request, *, group: str, key: str, rate: str) -> None:
    throttle(rate_limit_hit(request, group=group, key=key, rate=rate))


def throttle(wait: int | None) -> None:
    if wait is not None:
        raise exceptions.Throttled(wait=wait)


def validated(serializer_class, request, **kwargs) -> dict:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def memberships_payload(user: User) -> list[dict]:
    return CompanyRoleSerializer(user_memberships(user=user), many=True).data


class PublicView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []


# ---------------------------------------------------------------------------------------------
# auth/
# ---------------------------------------------------------------------------------------------


class RegisterView(PublicView):
    @extend_schema(
        request=RegisterSerializer,
        responses={
            201: inline_serializer(
                "RegisterResponse",
                {
                    "user": UserSerializer(),
                    "company": CompanySerializer(allow_null=True),
                    "detail": serializers.CharField(),
                },
            )
        },
        tags=["auth"],
    )
    def post(self, request):
        enforce_limit(request, group="auth.register", key=f"ip:{client_ip(request)}", rate="5/m")
        data = validated(RegisterSerializer, request)
        user, company = services.user_register(**data)
        return Response(
            {
                "user": UserSerializer(user).data,
                "company": CompanySerializer(company).data if company else None,
                "detail": _("Check your e-mail to verify your address."),
            },
            status=status.HTTP_201_CREATED,
        )


class VerifyEmailView(PublicView):
    @extend_schema(request=TokenOnlySerializer, responses=UserSerializer, tags=["auth"])
    def post(self, request):
        data = validated(TokenOnlySerializer, request)
        return Response(UserSerializer(services.email_verify(token=data["token"])).data)


class ResendVerificationView(PublicView):
    @extend_schema(request=EmailOnlySerializer, responses=DetailSerializer, tags=["auth"])
    def post(self, request):
        enforce_limit(request, group="auth.resend", key=f"ip:{client_ip(request)}", rate="5/m")
        data = validated(EmailOnlySerializer, request)
        services.email_verification_resend(email=data["email"])
        return Response(
            {"detail": _("If the account exists and is unverified, an e-mail is on its way.")}
        )


class LoginView(PublicView):
    @extend_schema(request=LoginSerializer, responses=LoginResponseSerializer, tags=["auth"])
    def post(self, request):
        # One rule for the API and the sign-in page (accounts.limits).
        throttle(login_ip_limit_wait(request))
        body = request.data if isinstance(request.data, dict) else {}
        email = services.normalize_email(str(body.get("email", "")))
        throttle(login_email_limit_wait(request, email=email))
        data = validated(LoginSerializer, request)
        user = services.user_authenticate(email=data["email"], password=data["password"])
        tokens = tokens_for_user(user)
        return Response(
            {**tokens, "user": UserSerializer(user).data, "companies": memberships_payload(user)}
        )


class RefreshView(PublicView):
    @extend_schema(request=RefreshInputSerializer, responses=TokenPairSerializer, tags=["auth"])
    def post(self, request):
        data = validated(RefreshInputSerializer, request)
        try:
            return Response(services.refresh_token_rotate(raw=data["refresh"]))
        except (TokenError, User.DoesNotExist):
            raise AuthenticationError(
                _("The refresh token is invalid, expired or already used."), code="token_not_valid"
            )


class LogoutView(PublicView):
    @extend_schema(request=RefreshInputSerializer, responses={204: None}, tags=["auth"])
    def post(self, request):
        data = validated(RefreshInputSerializer, request)
        # An already blacklisted or expired token: the session is over either way.
        with contextlib.suppress(TokenError):
            RefreshToken(data["refresh"]).blacklist()
        return Response(status=status.HTTP_204_NO_CONTENT)


class SelectCompanyView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=SelectCompanySerializer, responses=ContextTokenSerializer, tags=["auth"])
    def post(self, request):
        data = validated(SelectCompanySerializer, request)
        membership = (
            user_memberships(user=request.user).filter(company_id=data["company_id"]).first()
        )
        if membership is None:
            raise exceptions.NotFound(_("Company not found."), code="company_not_found")
        # Never beyond the token that asks: selecting again cannot keep a session alive
        # after its refresh token is gone (logout, password change).
        token = context_token_for(
            request.user,
            membership.company_id,
            membership.role,
            expires_by=request.auth.token.payload.get("exp"),
        )
        return Response(
            {
                "token": str(token),
                "token_type": "context",
                "expires_in": token["exp"] - int(token.current_time.timestamp()),
                "company": CompanySerializer(membership.company).data,
                "role": membership.role,
            }
        )


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    def _payload(self, request):
        auth = request.auth
        company = auth.company if auth.company_id else None
        return {
            "user": UserSerializer(request.user).data,
            "companies": memberships_payload(request.user),
            "current_company": CompanySerializer(company).data if company else None,
            "current_role": auth.role,
        }

    @extend_schema(responses=MeResponseSerializer, tags=["auth"])
    def get(self, request):
        return Response(self._payload(request))

    @extend_schema(request=MeUpdateSerializer, responses=MeResponseSerializer, tags=["auth"])
    def patch(self, request):
        data = validated(MeUpdateSerializer, request)
        services.user_profile_update(user=request.user, data=data)
        return Response(self._payload(request))


class PasswordResetView(PublicView):
    @extend_schema(request=EmailOnlySerializer, responses=DetailSerializer, tags=["auth"])
    def post(self, request):
        enforce_limit(
            request, group="auth.password_reset", key=f"ip:{client_ip(request)}", rate="5/m"
        )
        data = validated(EmailOnlySerializer, request)
        services.password_reset_request(email=data["email"])
        return Response(
            {"detail": _("If an account exists for this e-mail, a reset link is on its way.")}
        )


class PasswordResetConfirmView(PublicView):
    @extend_schema(
        request=PasswordResetConfirmSerializer, responses=DetailSerializer, tags=["auth"]
    )
    def post(self, request):
        enforce_limit(
            request,
            group="auth.password_reset_confirm",
            key=f"ip:{client_ip(request)}",
            rate="10/m",
        )
        data = validated(PasswordResetConfirmSerializer, request)
        services.password_reset_confirm(**data)
        return Response({"detail": _("Your password has been changed. Log in again.")})


class ChangePasswordView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=ChangePasswordSerializer, responses=DetailSerializer, tags=["auth"])
    def post(self, request):
        # As login's per-e-mail limit: a stolen token must not guess the password faster.
        enforce_limit(
            request, group="auth.change_password", key=f"user:{request.user.pk}", rate="5/m"
        )
        data = validated(ChangePasswordSerializer, request)
        services.password_change(user=request.user, **data)
        return Response(
            {"detail": _("Your password has been changed. Other sessions were closed.")}
        )


# ---------------------------------------------------------------------------------------------
# companies/
# ---------------------------------------------------------------------------------------------


class CompanyListCreateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=CompanyRoleSerializer(many=True), tags=["companies"])
    def get(self, request):
        return Response(memberships_payload(request.user))

    @extend_schema(
        request=CompanyInputSerializer, responses={201: CompanySerializer}, tags=["companies"]
    )
    def post(self, request):
        data = validated(CompanyInputSerializer, request)
        company = services.company_create(owner=request.user, **data)
        return Response(CompanySerializer(company).data, status=status.HTTP_201_CREATED)


class CurrentCompanyView(APIView):
    permission_classes = [IsAuthenticated, RolePermission]
    permission_module = "company"
    action_permissions = {"get": "read", "patch": "write", "delete": "delete"}

    def initial(self, request, *args, **kwargs):
        self.action = request.method.lower()
        super().initial(request, *args, **kwargs)

    @extend_schema(responses=CompanySerializer, tags=["companies"])
    def get(self, request):
        return Response(CompanySerializer(request.auth.company).data)

    @extend_schema(request=CompanyUpdateSerializer, responses=CompanySerializer, tags=["companies"])
    def patch(self, request):
        data = validated(CompanyUpdateSerializer, request)
        company = services.company_update(company=request.auth.company, data=data)
        return Response(CompanySerializer(company).data)

    @extend_schema(
        responses={204: None},
        tags=["companies"],
        description="Deactivates the company (records are kept for the DIAN); owner only.",
    )
    def delete(self, request):
        services.company_deactivate(company=request.auth.company)
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------------------------------------
# members/ and invitations/
# ---------------------------------------------------------------------------------------------


class CompanyScopedViewSet(GenericViewSet):
    """Company-level rows that are not TenantModels: filtered on the current company explicitly."""

    permission_classes = [IsAuthenticated, RolePermission]
    lookup_value_regex = UUID_PATTERN

    @property
    def company(self) -> Company:
        return self.request.auth.company


@extend_schema(tags=["members"])
class MemberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CompanyScopedViewSet):
    permission_module = "members"
    serializer_class = MemberSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Membership.objects.none()
        return company_members(company=self.company)

    @extend_schema(request=MemberUpdateSerializer, responses=MemberSerializer)
    def partial_update(self, request, pk=None):
        data = validated(MemberUpdateSerializer, request)
        membership = services.membership_update(
            actor=request.user, actor_role=request.auth.role, membership=self.get_object(), **data
        )
        return Response(MemberSerializer(membership).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        services.membership_remove(
            actor=request.user, actor_role=request.auth.role, membership=self.get_object()
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["invitations"])
class InvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CompanyScopedViewSet):
    permission_module = "invitations"
    serializer_class = InvitationSerializer
    filterset_fields = ["status", "role"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        return company_invitations(company=self.company)

    @extend_schema(request=InvitationCreateSerializer, responses={201: InvitationSerializer})
    def create(self, request):
        data = validated(InvitationCreateSerializer, request)
        invitation = services.invitation_create(
            company=self.company, invited_by=request.user, actor_role=request.auth.role, **data
        )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        invitation = services.invitation_revoke(invitation=self.get_object())
        return Response(InvitationSerializer(invitation).data)


class InvitationAcceptView(APIView):
    """Public, with optional authentication: an authenticated user accepts for their account."""

    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        request=InvitationAcceptSerializer,
        responses=MembershipResponseSerializer,
        tags=["invitations"],
        parameters=[OpenApiParameter("Authorization", location="header", required=False)],
    )
    def post(self, request):
        enforce_limit(
            request, group="auth.invitation_accept", key=f"ip:{client_ip(request)}", rate="10/m"
        )
        data = validated(InvitationAcceptSerializer, request)
        user = request.user if request.user.is_authenticated else None
        membership = services.invitation_accept(user=user, **data)
        return Response(MembershipResponseSerializer(membership).data)
