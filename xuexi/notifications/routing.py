from django.urls import path

from xuexi.notifications.consumers import MemberConsumer

websocket_urlpatterns = [path("ws/me/", MemberConsumer.as_asgi())]
