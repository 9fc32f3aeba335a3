"""Fleet-wide settings: model providers, gateways (remote ones adopted by URL and token, token
rotation), and import/export of OpenClaw configs. Every change that running gateways must see is
applied at once (a kick), like any other change."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, select

from clawnet import audit
from clawnet.bots import providers
from clawnet.bots.base import BotsBase
from clawnet.bots.checks import CheckResult
from clawnet.bots.import_files import WorkspaceUploads, read_uploads
from clawnet.bots.importer import import_openclaw_config
from clawnet.bots.placement import place_bot, session_spec_of
from clawnet.bots.provider_check import test_provider_key
from clawnet.bots.providers import ProviderInput
from clawnet.bots.queries import visible_bots
from clawnet.bots.views import ImportResult, ProviderRow
from clawnet.controlplane import openclaw_config as oc
from clawnet.controlplane.gateway_imports import read_setup_at
from clawnet.controlplane.plan import agent_specs, provider_spec
from clawnet.controlplane.protocol import (
    GatewayAuthError,
    GatewayConnection,
    GatewayError,
    GatewayPairingRequired,
    url_is_loopback,
)
from clawnet.enums import GatewayKind, ProviderKind
from clawnet.errors import NotFound, UserError
from clawnet.models import Bot, Gateway, ModelProvider
from clawnet.security.permissions import Action, Principal, require
from clawnet.security.rate_limit import LimitAction, rate_limiter
from clawnet.security.secret_fields import GATEWAY_TOKEN, PROVIDER_API_KEY
from clawnet.social.profiles import create_bot_profile


class Admin(BotsBase):
    # --- model providers ---------------------------------------------------------------------

    async def providers(self, actor: Principal | None) -> list[ProviderRow]:
        return await self._db(lambda s: providers.list_providers(s, actor))

    async def save_provider(
        self, actor: Principal | None, inp: ProviderInput, provider_id: int | None = None
    ) -> int:
        """Add or change a provider. Running gateways get the new key, URL or models at once."""

        def save(session: Session) -> int:
            return providers.save_provider(session, actor, inp, provider_id).id or 0

        saved = await self._db(save)
        self._changed()
        return saved

    async def test_provider(
        self, actor: Principal | None, inp: ProviderInput, provider_id: int | None = None
    ) -> CheckResult:
        """Try a provider's key (the one typed, or the stored one when `inp.api_key` is empty)
        against its base URL, and whether it offers the models listed."""

        def stored_key(session: Session) -> str:
            require(session, actor, Action.MANAGE_PROVIDERS)
            row = session.get(ModelProvider, provider_id) if provider_id is not None else None
            return PROVIDER_API_KEY.unseal(row.api_key_enc) if row is not None and row.api_key_enc else ""

        stored = await self._db(stored_key)  # also the permission check, before any request
        key = inp.api_key.strip() or stored
        try:
            kind = ProviderKind(inp.kind)
        except ValueError:
            return CheckResult(False, "Choose a provider type first.")
        base_url = inp.base_url
        if kind is ProviderKind.LOCAL_ECHO:
            base_url = f"http://127.0.0.1:{self.settings.echo_llm_port}/v1"
        name = inp.display_name.strip() or providers.KIND_LABELS[kind].split(" (")[0]
        model_ids = [m["id"] for m in providers.parse_models(inp.models_text)]
        return await test_provider_key(kind, name, base_url, key, model_ids)

    async def delete_provider(self, actor: Principal | None, provider_id: int) -> None:
        await self._db(lambda s: providers.delete_provider(s, actor, provider_id))
        self._changed()

    # --- gateways ------------------------------------------------------------------------------

    async def adopt_remote_gateway(self, actor: Principal | None, name: str, url: str, token: str) -> int:
        """Manage a gateway running elsewhere (its own supervisor starts it) by URL and token.
        The connection is tried first, so a wrong URL or token is refused with the reason."""
        await self._db(lambda s: require(s, actor, Action.MANAGE_GATEWAYS))
        errors: dict[str, str] = {}
        if not name.strip():
            errors["name"] = "Name the gateway."
        url = url.strip()
        if not url.startswith(("ws://", "wss://")):
            errors["url"] = (
                "Use the gateway's WebSocket URL, like wss://gateway.example.com or ws://127.0.0.1:18789."
            )
        elif url.startswith("ws://") and not url_is_loopback(url):
            # The token and everything ClawNet sends would cross the network in clear text.
            errors["url"] = (
                "Plain ws:// is only allowed to a loopback address (127.0.0.1, ::1, localhost). "
                "Use wss:// (TLS on the gateway), or a tunnel to a loopback address "
                "(SSH -L or WireGuard), e.g. ssh -L 18789:127.0.0.1:18789 gateway-host, then ws://127.0.0.1:18789."
            )
        if not token.strip():
            errors["token"] = "Paste the gateway's auth token (gateway.auth.token in its config)."  # noqa: S105
        if errors:
            raise UserError(field_errors=errors)
        try:
            conn = await GatewayConnection.open(url, token.strip(), timeout=20)
            await conn.close()
        except GatewayPairingRequired as exc:
            # The token was accepted; the gateway now holds a pending request for ClawNet's
            # device. Adopting again after the approval connects.
            raise UserError(field_errors={"url": exc.message}) from None
        except GatewayAuthError:
            raise UserError(field_errors={"token": "The gateway refused this token."}) from None
        except GatewayError as exc:
            raise UserError(field_errors={"url": f"Cannot reach the gateway: {exc.message}"}) from None

        def add(session: Session) -> int:
            who = require(session, actor, Action.MANAGE_GATEWAYS)
            gateway = Gateway(
                name=name.strip(),
                kind=GatewayKind.REMOTE.value,
                url=url,
                owner_id=who.user_id,
                token_enc=GATEWAY_TOKEN.seal(token.strip()),
                capacity=self.settings.pool_capacity,
            )
            session.add(gateway)
            session.flush()
            audit.record(
                session,
                who,
                "gateway.adopt",
                "gateway",
                gateway.id,
                f"adopted remote gateway {name} at {url}",
            )
            assert gateway.id is not None
            return gateway.id

        gateway_id = await self._db(add)
        self._changed()
        return gateway_id

    async def rotate_gateway_token(self, actor: Principal | None, gateway_id: int) -> None:
        """Give a local gateway a new random token (applied hot; connections reconnect with it)."""

        def rotate(session: Session) -> None:
            who = require(session, actor, Action.MANAGE_GATEWAYS)
            gateway = session.get(Gateway, gateway_id)
            if gateway is None or gateway.kind != GatewayKind.LOCAL.value:
                raise NotFound("No such local gateway.")
            gateway.token_enc = GATEWAY_TOKEN.seal(secrets.token_urlsafe(32))
            session.add(gateway)
            audit.record(
                session, who, "gateway.rotate_token", "gateway", gateway_id, f"new token for {gateway.name}"
            )

        await self._db(rotate)
        self._changed()

    # --- import / export -----------------------------------------------------------------------

    async def export_config(self, actor: Principal | None, bot_id: int | None = None) -> str:
        """A bot's (or every visible bot's) OpenClaw config, secrets redacted."""

        def export(session: Session) -> str:
            if bot_id is not None:
                require(session, actor, Action.VIEW_BOT, bot_id)
                bots = [b for b in [session.get(Bot, bot_id)] if b is not None]
            else:
                bots = visible_bots(session, actor)
            all_providers = {p.id: p for p in session.exec(select(ModelProvider)).all() if p.id is not None}
            spec = oc.GatewaySpec(
                local=False,
                providers=tuple(provider_spec(p, self.settings) for p in all_providers.values()),
                agents=agent_specs(session, bots, all_providers, self.settings, local=False),
                session=session_spec_of(bots[0]) if bots else oc.SessionSpec(),
            )
            return oc.render(oc.redact_secrets(oc.build_config(spec)))

        return await self._db(export)

    async def import_config(
        self,
        actor: Principal | None,
        raw: str,
        *,
        dry_run: bool = False,
        provider_keys: Mapping[str, str] | None = None,
        uploads: list[tuple[str, bytes]] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ImportResult:
        """Bots from an `openclaw.json`: all or nothing (`dry_run` only previews, and does not
        yet require the providers' keys). `provider_keys`: provider name -> API key typed in the
        preview; `uploads`: persona files or workspace zips; `env`: what `${VAR}` may name (the
        command line passes its environment; the web page none)."""
        files = read_uploads(uploads) if uploads else None
        return await self._import(actor, raw, dry_run, provider_keys, files, env or {}, None)

    async def import_from_gateway(
        self,
        actor: Principal | None,
        gateway_id: int,
        *,
        dry_run: bool = True,
        provider_keys: Mapping[str, str] | None = None,
    ) -> ImportResult:
        """Adopt a hand-managed gateway's agents: read its config and persona files over the
        protocol and import its agents as bots hosted on it (preview with `dry_run`)."""

        def target(session: Session) -> tuple[str, str]:
            require(session, actor, Action.MANAGE_GATEWAYS)
            require(session, actor, Action.IMPORT_CONFIG)
            gateway = session.get(Gateway, gateway_id)
            if gateway is None or gateway.kind != GatewayKind.REMOTE.value or not gateway.url:
                raise NotFound("No such remote gateway.")
            return gateway.url, GATEWAY_TOKEN.unseal(gateway.token_enc)

        url, token = await self._db(target)
        try:
            setup = await read_setup_at(url, token)
        except GatewayError as exc:
            raise UserError(f"Cannot read the gateway's configuration: {exc.message}") from None
        files = WorkspaceUploads(files={a: dict(f) for a, f in setup.files.items()})
        return await self._import(
            actor, setup.config, dry_run, provider_keys, files, {}, gateway_id, secrets_readable=False
        )

    async def _import(
        self,
        actor: Principal | None,
        raw: str | Mapping[str, Any],
        dry_run: bool,
        provider_keys: Mapping[str, str] | None,
        files: WorkspaceUploads | None,
        env: Mapping[str, str],
        remote_gateway_id: int | None,
        *,
        secrets_readable: bool = True,
    ) -> ImportResult:
        def run(session: Session) -> ImportResult:
            who = require(session, actor, Action.IMPORT_CONFIG)
            if not dry_run:  # previews are free; an import that writes counts
                rate_limiter(self.settings).hit(LimitAction.IMPORT, f"user:{who.user_id}")
            result = import_openclaw_config(
                session,
                self.settings,
                who,
                raw,
                provider_keys=provider_keys,
                env=env,
                uploads=files,
                require_keys=not dry_run,
                remote_gateway_id=remote_gateway_id,
                secrets_readable=secrets_readable,
            )
            if result.errors or dry_run:
                session.rollback()
                return result
            for new_id in result.bot_ids:
                bot = session.get(Bot, new_id)
                if bot is not None:
                    if remote_gateway_id is not None:
                        bot.gateway_id = remote_gateway_id  # hosted where it already runs
                    place_bot(session, bot, self.settings)
                    create_bot_profile(session, bot)
            audit.record(
                session, who, "config.import", "fleet", "", f"imported {len(result.bot_ids)} bots",
                after={"bots": [b.name for b in result.bots], "providers": result.providers},
            )  # fmt: skip
            return result

        result = await self._db(run)
        if not result.errors and not dry_run:
            self._changed()
        return result
