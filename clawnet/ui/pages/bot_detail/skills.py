"""The Skills tab: the skills the bot's gateway offers (with what each needs and whether it is
ready), a switch per skill for this bot, its custom skills (uploaded as a zip or a skill
folder's files), the packs attached to it, and the skill packs themselves.

Packs are managed here rather than on a page of their own: a pack is made of the skill names
this tab lists, and is attached from the bot people are looking at (to it and, at once, to any
other bot they may attach packs to)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet.ui.components.forms import data_table, field_error, native_select
from clawnet.ui.pages.bot_detail.skill_packs import packs_manager
from clawnet.ui.pages.bot_detail.skills_state import UPLOAD_ID, BotSkillsState
from clawnet.ui.pages.bot_detail.state import BotDetailState


def skill_row(r: Any) -> rx.Component:
    s = BotSkillsState
    return rx.table.row(
        rx.table.cell(
            rx.switch(
                checked=r.enabled,
                on_change=lambda on: s.toggle(r.name, on),
                disabled=~BotDetailState.header.can_configure | s.busy,
                aria_label="Use the skill " + r.name,
                data_testid="skill-toggle-" + r.name,
            )
        ),
        rx.table.cell(
            rx.vstack(
                rx.hstack(
                    rx.text(r.emoji, aria_hidden="true"), rx.text(r.name, weight="medium"), spacing="1"
                ),
                rx.text(r.description, size="1", color_scheme="gray"),
                spacing="0",
                max_width="28em",
            )
        ),
        rx.table.cell(rx.text(r.source, size="2")),
        rx.table.cell(
            rx.vstack(
                rx.badge(
                    r.readiness,
                    color_scheme=rx.cond(r.ready, "green", "gray"),
                    data_testid="skill-ready-" + r.name,
                ),
                rx.cond(r.needs != "", rx.text("Needs " + r.needs, size="1", color_scheme="gray")),
                spacing="1",
            ),
            title="Requires: " + r.requirements,
        ),
        rx.table.cell(
            rx.cond(
                r.visible,
                rx.badge("Yes", color_scheme="green", data_testid="skill-visible-" + r.name),
                rx.badge("No", color_scheme="gray", data_testid="skill-visible-" + r.name),
            )
        ),
        rx.table.cell(rx.text(r.packs, size="1")),
        data_testid=r.testid,
    )


def mode_line() -> rx.Component:
    s = BotSkillsState
    return rx.vstack(
        rx.text(
            rx.cond(
                s.skills.chosen,
                "This bot uses only the skills turned on here, those of its packs, and its custom skills.",
                "This bot uses every skill its gateway offers (OpenClaw's default). Turning one off "
                "limits it to the others.",
            ),
            size="2",
            data_testid="skills-mode",
        ),
        rx.cond(
            s.skills.chosen & BotDetailState.header.can_configure,
            rx.button(
                "Drop this bot's own choices",
                size="1",
                variant="soft",
                color_scheme="gray",
                on_click=s.reset_choices,
                data_testid="skills-reset",
            ),
        ),
        rx.cond(
            s.skills.gateway_note != "",
            rx.callout(s.skills.gateway_note, color_scheme="amber", role="status", data_testid="skills-note"),
        ),
        spacing="2",
        width="100%",
    )


def custom_section() -> rx.Component:
    s = BotSkillsState
    return rx.vstack(
        rx.heading("Custom skills", size="4"),
        rx.cond(
            s.skills.custom.length() == 0,
            rx.text("No custom skill yet.", size="2", color_scheme="gray", data_testid="custom-skills-empty"),
            data_table(
                ("Skill", "Size", "Installed", "Uploaded by", ""),
                s.skills.custom,
                lambda c: rx.table.row(
                    rx.table.cell(
                        rx.vstack(rx.text(c.name, weight="medium"), rx.text(c.description, size="1"))
                    ),
                    rx.table.cell(c.size),
                    rx.table.cell(rx.cond(c.installed, "Yes", "Not yet")),
                    rx.table.cell(c.uploaded_by),
                    rx.table.cell(
                        rx.cond(
                            BotDetailState.header.can_configure,
                            rx.button(
                                "Remove",
                                size="1",
                                variant="soft",
                                color_scheme="red",
                                on_click=s.remove_custom(c.id),
                                aria_label="Remove the custom skill " + c.name,
                                data_testid="custom-skill-remove-" + c.name,
                            ),
                        )
                    ),
                    data_testid="custom-skill-" + c.name,
                ),
                "custom-skills",
            ),
        ),
        rx.cond(
            BotDetailState.header.can_configure,
            rx.vstack(
                rx.upload(
                    rx.button("Upload a skill", size="2", variant="soft", type="button"),
                    id=UPLOAD_ID,
                    accept={"application/zip": [".zip"], "text/markdown": [".md"], "text/plain": [".txt"]},
                    multiple=True,
                    on_drop=s.upload(rx.upload_files(upload_id=UPLOAD_ID)),
                    data_testid="skill-upload",
                    aria_label="Upload a skill (.zip, or the folder's files with SKILL.md)",
                    border="none",
                    padding="0",
                ),
                rx.text(
                    "A .zip of the skill's folder, or its files (SKILL.md with a name and a description, "
                    "and the files next to it); at most 1 MB. The gateway checks it and installs it in "
                    "this bot's workspace.",
                    size="1",
                    color_scheme="gray",
                ),
                field_error(s.upload_error, "skill-upload"),
                spacing="1",
            ),
        ),
        spacing="2",
        width="100%",
    )


def packs_section() -> rx.Component:
    s = BotSkillsState
    can = BotDetailState.header.can_configure
    attached = rx.foreach(
        s.skills.packs,
        lambda p: rx.hstack(
            rx.badge(p.name, data_testid="attached-pack-" + p.name),
            rx.text(p.skills, size="1", color_scheme="gray"),
            rx.cond(
                p.can_edit,
                rx.button(
                    "Detach",
                    size="1",
                    variant="ghost",
                    on_click=s.detach(p.id),
                    aria_label="Detach the pack " + p.name,
                    data_testid="detach-pack-" + p.name,
                ),
            ),
            align="center",
        ),
    )
    attach = rx.hstack(
        native_select(
            "Attach a pack",
            s.attachable,
            testid="attach-pack-choice",
            value=s.attach_choice,
            on_change=s.set_attach_choice,
            show_label=False,
        ),
        rx.button("Attach pack", size="2", on_click=s.attach, data_testid="attach-pack"),
        spacing="2",
    )
    return rx.vstack(
        rx.heading("Packs on this bot", size="4"),
        rx.cond(
            s.skills.packs.length() == 0,
            rx.text(
                "No pack is attached.", size="2", color_scheme="gray", data_testid="attached-packs-empty"
            ),
            rx.vstack(attached, spacing="1", data_testid="attached-packs"),
        ),
        rx.cond(
            can,
            rx.vstack(
                attach,
                rx.text(
                    "On a bot that uses every skill, a pack limits it to the pack's skills and those "
                    "turned on here.",
                    size="1",
                    color_scheme="gray",
                ),
                spacing="1",
            ),
        ),
        spacing="2",
        width="100%",
    )


def skills_tab() -> rx.Component:
    s = BotSkillsState
    return rx.vstack(
        mode_line(),
        data_table(
            ("On", "Skill", "Source", "Ready", "Model sees it", "From packs"),
            s.skills.rows,
            skill_row,
            "skills-table",
        ),
        custom_section(),
        packs_section(),
        packs_manager(),
        spacing="4",
        width="100%",
        data_testid="bot-skills",
    )
