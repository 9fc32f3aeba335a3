"""The bots service: the UI's (and the API's, and scripts') one door to the fleet.

It is assembled from parts, one module each: `lifecycle` (create, edit, start, stop, restart,
delete), `operations` (chat, channel actions, logs), `reads` (what the pages show), `editing`
(the setup wizard's form, checks and drafts), `admin` (providers, gateways, import/export),
`access` (DM access requests and approved senders), `approvals` (exec and plugin approvals), `routing` (routing rules and groups),
`session_ops` (new, rename, reset, compact, delete, abort, reply as the operator),
`session_reads` (session lists, transcripts and response times, a page at a time),
`skills` (skills, custom skills and skill packs), `schedules` (cron jobs), `backups` (the
backup schedule and its runs, admins) and `limits` (the rate limits admins set).
Every method takes the acting `Principal` and checks permission itself; database work runs off
the event loop; the control plane is reached through `controlplane.access`, in this process or
another.
"""

from __future__ import annotations

from clawnet.bots.access import Access
from clawnet.bots.admin import Admin
from clawnet.bots.alerts import Alerts
from clawnet.bots.approvals import Approvals
from clawnet.bots.backups import Backups
from clawnet.bots.budgets import Budgets
from clawnet.bots.editing import Editing
from clawnet.bots.lifecycle import Lifecycle
from clawnet.bots.limits import RateLimits
from clawnet.bots.operations import Operations
from clawnet.bots.reads import Reads
from clawnet.bots.routing import Routing
from clawnet.bots.schedules import Schedules
from clawnet.bots.session_ops import SessionOps
from clawnet.bots.session_reads import SessionReads
from clawnet.bots.skills import Skills
from clawnet.controlplane.access import Control, LocalControl, RemoteControl
from clawnet.controlplane.controller import FleetController
from clawnet.events import EventBus
from clawnet.settings import Settings


class BotsService(
    Alerts,
    Lifecycle,
    Operations,
    Reads,
    SessionReads,
    Editing,
    Admin,
    Access,
    Approvals,
    Routing,
    SessionOps,
    Skills,
    Schedules,
    Budgets,
    Backups,
    RateLimits,
):
    def __init__(
        self, settings: Settings, bus: EventBus, control: Control | FleetController | None = None
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.control = RemoteControl(bus, settings.database_url)
        self.attach(control)

    def attach(self, control: Control | FleetController | None) -> None:
        """Use the control plane in this process (a controller) or reach it from here."""
        if isinstance(control, FleetController):
            self.control = LocalControl(control)
        elif control is not None:
            self.control = control
        else:
            self.control = RemoteControl(self.bus, self.settings.database_url)
