"""What the Settings page shares between its sections: which sections the signed-in person sees.

These flags only decide what is shown; every handler still passes the principal to a service,
which checks the permission itself.
"""

from __future__ import annotations

import reflex as rx

from clawnet.security.permissions import Action, Principal, role_allows
from clawnet.ui.session import current_principal
from clawnet.ui.typed import Field, event, field


def allows(principal: Principal | None, action: Action) -> bool:
    return principal is not None and principal.is_active and role_allows(principal.role, action)


class SettingsState(rx.State):
    sees_fleet: Field[bool] = field(False)
    can_manage_providers: Field[bool] = field(False)
    can_import: Field[bool] = field(False)
    can_manage_gateways: Field[bool] = field(False)

    @event
    async def on_load(self) -> None:
        principal = await current_principal(self)
        self.sees_fleet = allows(principal, Action.VIEW_FLEET)
        self.can_manage_providers = allows(principal, Action.MANAGE_PROVIDERS)
        self.can_import = allows(principal, Action.IMPORT_CONFIG)
        self.can_manage_gateways = allows(principal, Action.MANAGE_GATEWAYS)
