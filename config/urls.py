from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from xuexi.api.main import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", api.urls),
    path("django-admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("xuexi.accounts.urls")),
    path("captcha/", include("captcha.urls")),
    path("console/", include("xuexi.organizations.urls")),
    path("join/", include("xuexi.organizations.join_urls")),
    path("points/", include("xuexi.points.urls")),
    path("quizzes/", include("xuexi.quizzes.urls")),
    path("", include("xuexi.content.urls")),
    path("", include("xuexi.web.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
