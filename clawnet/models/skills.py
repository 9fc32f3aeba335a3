"""Skills: which OpenClaw skills each bot may use, the custom skills people upload, and skill
packs (a named set of skills attached to many bots at once).

All of it is desired state. A bot's effective skill list (`controlplane.skill_choices`) is its
own choices plus the skills of its packs plus its custom skills; the generated config carries it
as `agents.entries.<id>.skills`, and the reconciler installs custom skills through the gateway's
own upload methods. A bot with no choice and no pack keeps OpenClaw's default (every skill its
gateway finds eligible).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from clawnet.models.types import UTCDateTime, utcnow


class BotSkill(SQLModel, table=True):
    """A person's choice about one skill for one bot: on or off (off wins over a pack)."""

    __tablename__ = "bot_skills"
    __table_args__ = (sa.UniqueConstraint("bot_id", "skill"),)

    id: int | None = Field(default=None, primary_key=True)
    bot_id: int = Field(foreign_key="bots.id", ondelete="CASCADE", index=True)
    skill: str = Field(max_length=64)  # the skill's name (what OpenClaw's allowlists match)
    enabled: bool = Field(default=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SkillPack(SQLModel, table=True):
    """A named set of skills, attached to any number of bots."""

    __tablename__ = "skill_packs"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    description: str = Field(default="", max_length=500)
    skills: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    created_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BotSkillPack(SQLModel, table=True):
    """A pack attached to a bot."""

    __tablename__ = "bot_skill_packs"
    __table_args__ = (sa.UniqueConstraint("bot_id", "pack_id"),)

    id: int | None = Field(default=None, primary_key=True)
    bot_id: int = Field(foreign_key="bots.id", ondelete="CASCADE", index=True)
    pack_id: int = Field(foreign_key="skill_packs.id", ondelete="CASCADE", index=True)
    attached_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CustomSkill(SQLModel, table=True):
    """A skill someone uploaded for a bot (a zip with `SKILL.md` at its root), installed into the
    bot's workspace by the gateway's `skills.upload.*` + `skills.install` methods."""

    __tablename__ = "custom_skills"
    __table_args__ = (sa.UniqueConstraint("bot_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    bot_id: int = Field(foreign_key="bots.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=64)  # from SKILL.md's frontmatter; also the install slug
    description: str = Field(default="", max_length=500)
    archive: bytes = Field(sa_type=sa.LargeBinary)
    sha256: str = Field(max_length=64)
    size: int = Field(default=0)
    uploaded_by: str = Field(default="", max_length=320)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
