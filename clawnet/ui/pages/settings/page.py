"""The Settings page (`/settings`): one section per module, each shown to those it concerns."""

from __future__ import annotations

import reflex as rx

from clawnet import routes
from clawnet.ui.components.bot_filter import BotFilterState, bot_filter_section
from clawnet.ui.components.layout import page_frame
from clawnet.ui.pages.settings.apps import AppsState, apps_section
from clawnet.ui.pages.settings.backups import BackupsState, backups_section
from clawnet.ui.pages.settings.budgets import OwnerBudgetsState, owner_budgets_section
from clawnet.ui.pages.settings.federation import FederationState, federation_section
from clawnet.ui.pages.settings.gateways import GatewaysState, gateways_section
from clawnet.ui.pages.settings.import_export import ImportExportState, import_export_sections
from clawnet.ui.pages.settings.limits import LimitsState, limits_section
from clawnet.ui.pages.settings.moderation import MutedBlockedState, moderation_section
from clawnet.ui.pages.settings.profile import MyProfileState, profile_section
from clawnet.ui.pages.settings.providers import ProvidersState, providers_section
from clawnet.ui.pages.settings.security import SecurityState, security_section
from clawnet.ui.pages.settings.state import SettingsState
from clawnet.ui.session import SessionState


@rx.page(
    route=routes.SETTINGS,
    title="Settings · ClawNet",
    on_load=[
        SessionState.require_sign_in,
        SettingsState.on_load,
        MyProfileState.load,
        BotFilterState.load,
        AppsState.load,
        ProvidersState.load,
        ImportExportState.load,
        GatewaysState.load,
        OwnerBudgetsState.load,
        BackupsState.load,
        LimitsState.load,
        FederationState.load,
        SecurityState.load,
        MutedBlockedState.load,
    ],
)
def settings_page() -> rx.Component:
    return page_frame(
        "Settings",
        profile_section(),
        security_section(),
        bot_filter_section(),
        moderation_section(),
        apps_section(),
        rx.cond(SettingsState.sees_fleet, providers_section()),
        owner_budgets_section(),
        import_export_sections(),
        rx.cond(SettingsState.can_manage_gateways, gateways_section()),
        backups_section(),
        limits_section(),
        federation_section(),
        testid="settings-page",
    )
