"""Reflex knows every ClawNet table (so `reflex db` commands and Reflex's checks see them)."""

import reflex as rx

import clawnet.models


def test_reflex_model_registry_holds_every_clawnet_table():
    import reflex.model  # noqa: F401  (what the app import does)

    tables = set(rx.ModelRegistry.get_metadata().tables)
    assert {t.__tablename__ for t in clawnet.models.ALL_TABLES} <= tables
