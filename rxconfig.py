"""Reflex configuration. Values come from ClawNet's settings (clawnet/settings.py), so one set
of environment variables configures everything."""

import os

import reflex as rx

from clawnet.settings import get_settings

# Reflex reads these from the environment; set them here too so any `reflex` command is quiet.
os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
os.environ.setdefault("REFLEX_CHECK_LATEST_VERSION", "false")

settings = get_settings()

config = rx.Config(
    app_name="clawnet",
    db_url=settings.database_url,
    telemetry_enabled=False,
    frontend_port=settings.frontend_port,
    backend_port=settings.backend_port,
    backend_host=settings.host,
    show_built_with_reflex=False,
    # One worker keeps browser states in memory (the default "disk" manager re-pickles a whole
    # dashboard on every live update); several workers share them through Redis.
    state_manager_mode="redis" if os.environ.get("REFLEX_REDIS_URL") else "memory",
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(appearance="inherit", accent_color="iris", gray_color="slate", radius="medium")
        )
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
