from django.apps import AppConfig


class WebsocketAppConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "websocket_app"
