"""Setup-wizard drafts: what someone typed so far, kept (encrypted) until they launch the bot."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, col, select

from clawnet.bots.views import DraftRow
from clawnet.humanize import ago
from clawnet.models import BotDraft, utcnow
from clawnet.security.permissions import Action, Principal, require
from clawnet.security.secret_fields import DRAFT_DATA

MAX_DRAFTS_PER_USER = 20


def save_draft(
    session: Session, actor: Principal | None, data: dict[str, Any], *, step: int, draft_id: int | None = None
) -> int:
    actor = require(session, actor, Action.CREATE_BOT)
    draft = session.get(BotDraft, draft_id) if draft_id else None
    if draft is None or draft.user_id != actor.user_id:
        count = len(session.exec(select(BotDraft.id).where(BotDraft.user_id == actor.user_id)).all())
        if count >= MAX_DRAFTS_PER_USER:
            oldest = session.exec(
                select(BotDraft).where(BotDraft.user_id == actor.user_id).order_by(col(BotDraft.updated_at))
            ).first()
            if oldest is not None:
                session.delete(oldest)
        draft = BotDraft(user_id=actor.user_id, data_enc="")
    draft.name = str(data.get("name") or "")[:80]
    draft.step = step
    draft.data_enc = DRAFT_DATA.seal(json.dumps(data))
    draft.updated_at = utcnow()
    session.add(draft)
    session.flush()
    assert draft.id is not None
    return draft.id


def load_draft(session: Session, actor: Principal | None, draft_id: int) -> tuple[dict[str, Any], int] | None:
    actor = require(session, actor, Action.CREATE_BOT)
    draft = session.get(BotDraft, draft_id)
    if draft is None or draft.user_id != actor.user_id:
        return None
    return json.loads(DRAFT_DATA.unseal(draft.data_enc)), draft.step


def list_drafts(session: Session, actor: Principal | None) -> list[DraftRow]:
    actor = require(session, actor, Action.CREATE_BOT)
    return [
        DraftRow(d.id or 0, d.name or "Unnamed bot", d.step, ago(d.updated_at))
        for d in session.exec(
            select(BotDraft)
            .where(BotDraft.user_id == actor.user_id)
            .order_by(col(BotDraft.updated_at).desc())
        ).all()
    ]


def delete_draft(session: Session, actor: Principal | None, draft_id: int) -> None:
    actor = require(session, actor, Action.CREATE_BOT)
    draft = session.get(BotDraft, draft_id)
    if draft is not None and draft.user_id == actor.user_id:
        session.delete(draft)
