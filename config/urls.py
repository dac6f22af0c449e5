from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from participants import urls as participant_urls
from participants import views as participant_views
from participants.forms import LoginForm
from screening import views as screening_views

from . import views as account_views
from .health import healthz

# The participant page combines records, evaluations and escalations, so it is served by the
# evaluation layer (screening) under the participants' address and URL names.
participant_pages = [
    *participant_urls.urlpatterns,
    path("<int:pk>/", screening_views.participant_detail, name="detail"),
    path("<int:pk>/next/", screening_views.next_missing, name="next_missing"),
]

urlpatterns = [
    path("", participant_views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", account_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("session/keepalive/", account_views.session_keepalive, name="session_keepalive"),
    path("role/", participant_views.switch_role, name="switch_role"),
    path("healthz", healthz, name="healthz"),
    path("participants/", include((participant_pages, participant_urls.app_name))),
    path("eac/", include("adjudication.urls")),
    path("screening/", include("screening.urls")),
    path("api/", include("api.urls")),
    path("labs/", include("labimport.urls")),
    path("audit/", include("audit.urls")),
    path("admin/", admin.site.urls),
]
