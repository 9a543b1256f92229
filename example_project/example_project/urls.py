from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from accounts.views import LogoutView, TokenView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/auth/token/", TokenView.as_view(), name="api-token"),
    path("api/auth/logout/", LogoutView.as_view(), name="api-logout"),
    path("api/", include("trading.urls")),
    path("api/", include("django_torgovo_subscriptions.urls")),
]

if settings.OPENAPI:
    from drf_spectacular.views import (
        SpectacularAPIView,
        SpectacularRedocView,
        SpectacularSwaggerView,
    )

    urlpatterns += [
        path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
        path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
        path(
            "api/redoc/",
            # drf-spectacular's page without its Google Fonts links (offline).
            SpectacularRedocView.as_view(url_name="schema", template_name="redoc_offline.html"),
            name="redoc",
        ),
    ]
