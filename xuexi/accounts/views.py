"""Account pages: sign in (password or SMS code), register, reset password, sign out."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xuexi.accounts import services
from xuexi.accounts.forms import (
    PasswordLoginForm,
    PasswordResetForm,
    RegisterForm,
    SignInForm,
    SmsLoginForm,
)
from xuexi.accounts.models import LoginResult, SmsPurpose, User
from xuexi.core.clientip import client_ip_from_request
from xuexi.core.errors import DomainError, RateLimited

BACKEND = "xuexi.accounts.backends.PhonePasswordBackend"


def _next_url(request: HttpRequest) -> str:
    """Where to go after signing in: only our own host (SECURITY S20)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


def _sign_in(request: HttpRequest, user: User) -> None:
    login(request, user, backend=BACKEND)  # rotates the session key; starts its lifetime


CAPTCHA_AFTER_FAILURES = 3
FAILURES_KEY = "xuexi_login_failures"


def _needs_captcha(request: HttpRequest, phone: str) -> bool:
    """After three failures — from this browser, or against this account — ask for a captcha."""
    if request.session.get(FAILURES_KEY, 0) >= CAPTCHA_AFTER_FAILURES:
        return True
    return bool(phone) and services.sign_in_failures(phone=phone) >= CAPTCHA_AFTER_FAILURES


def login_view(request: HttpRequest) -> HttpResponse:
    method = request.POST.get("method") or request.GET.get("method") or "password"
    form_class: type[SignInForm] = SmsLoginForm if method == "sms" else PasswordLoginForm
    form = form_class(request.POST or None)
    if _needs_captcha(request, request.POST.get("phone", "")):
        form.require_captcha()
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_sign_in(
                request=request,
                phone=form.cleaned_data["phone"],
                password=form.cleaned_data.get("password"),
                code=form.cleaned_data.get("code"),
                channel="web",
            )
        except DomainError as error:
            request.session[FAILURES_KEY] = request.session.get(FAILURES_KEY, 0) + 1
            form.add_domain_error(error)
            status = error.status if error.status in (423, 429) else 200
            if "captcha" not in form.fields and _needs_captcha(request, ""):
                form.require_captcha()  # the next try needs one: show it now
        else:
            _sign_in(request, user)  # a new session: the failure count goes with the old one
            return redirect(_next_url(request))
    return render(
        request,
        "accounts/login.html",
        {"form": form, "method": method, "next": _next_url(request)},
        status=status,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_authenticated:
        services.login_event_record(
            request=request,
            user=user,
            phone=user.phone,
            channel="web",
            method="",
            result=LoginResult.LOGOUT,
        )
    logout(request)
    messages.info(request, _("您已安全退出。"))
    return redirect("accounts:login")


def register_view(request: HttpRequest) -> HttpResponse:
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_register(
                phone=form.cleaned_data["phone"],
                code=form.cleaned_data["code"],
                real_name=form.cleaned_data["real_name"],
                password=form.cleaned_data["password"],
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            _sign_in(request, user)
            messages.success(request, _("欢迎您，%(name)s！注册成功。") % {"name": user.real_name})
            return redirect("web:me")
    return render(request, "accounts/register.html", {"form": form})


def password_reset_view(request: HttpRequest) -> HttpResponse:
    form = PasswordResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_reset(
                phone=form.cleaned_data["phone"],
                code=form.cleaned_data["code"],
                new_password=form.cleaned_data["new_password"],
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            request.session.pop(FAILURES_KEY, None)  # proven by SMS: no captcha for his next try
            messages.success(request, _("密码已重置，请用新密码登录。"))
            return redirect("accounts:login")
    return render(request, "accounts/password_reset.html", {"form": form})


@require_POST
def sms_code_view(request: HttpRequest) -> JsonResponse:
    """The pages' "获取验证码" button (CSRF-protected form post, JSON answer)."""
    purpose = request.POST.get("purpose", "")
    if purpose not in SmsPurpose.values:
        return JsonResponse({"ok": False, "message": _("验证码用途无效。")}, status=422)
    try:
        ticket = services.sms_code_request(
            phone=request.POST.get("phone", ""),
            purpose=purpose,
            client_ip=client_ip_from_request(request),
        )
    except RateLimited as error:
        response = JsonResponse(
            {"ok": False, "message": str(error.message), "retry_after": error.retry_after},
            status=429,
        )
        response["Retry-After"] = str(error.retry_after)
        return response
    except DomainError as error:
        return JsonResponse({"ok": False, "message": str(error.message)}, status=error.status)
    return JsonResponse(
        {
            "ok": True,
            "message": _("验证码已发送，请注意查收短信。"),
            "resend_after": ticket.resend_after,
        },
        status=202,
    )
