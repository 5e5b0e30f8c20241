"""The ASGI entry point for Hypercorn: the only module that creates an app at import."""

from service.app import create_app

app = create_app()
