"""The Skills tab's packs manager: every skill pack (its skills and bots, Delete for those who
may change it) and the form for a new pack, attached at once to the bots ticked under it."""

from __future__ import annotations

import reflex as rx

from clawnet.ui.components.forms import data_table, field_error, text_area_field, text_field
from clawnet.ui.pages.bot_detail.skills_state import BotSkillsState


def pack_form() -> rx.Component:
    s = BotSkillsState
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("New pack", size="3"),
                text_field(
                    "Name", name="name", testid="skill-pack-name", error=s.pack_errors.get("name", "")
                ),
                text_field(
                    "Skills",
                    name="skills",
                    testid="skill-pack-skills",
                    error=s.pack_errors.get("skills", ""),
                    hint="Skill names from the list above, separated by commas (e.g. weather, healthcheck).",
                ),
                text_area_field(
                    "Description",
                    name="description",
                    testid="skill-pack-description",
                    error=s.pack_errors.get("description", ""),
                ),
                rx.text("Attach to", weight="medium", size="2"),
                rx.flex(
                    rx.foreach(
                        s.targets,
                        lambda b: rx.el.label(
                            rx.hstack(
                                rx.checkbox(
                                    checked=s.pack_bots.contains(b.id.to_string()),
                                    on_change=lambda on: s.set_pack_bot(b.id.to_string(), on),
                                    data_testid="skill-pack-bot-" + b.id.to_string(),
                                ),
                                rx.text(b.name, size="2"),
                                spacing="1",
                                align="center",
                            )
                        ),
                    ),
                    wrap="wrap",
                    spacing="3",
                ),
                field_error(s.pack_errors.get("bots", ""), "skill-pack-bots"),
                rx.button("Save pack", type="submit", data_testid="skill-pack-save"),
                spacing="2",
                width="100%",
            ),
            on_submit=s.save_pack,
            reset_on_submit=False,
        ),
        width="100%",
        data_testid="skill-pack-form",
    )


def packs_manager() -> rx.Component:
    s = BotSkillsState
    return rx.vstack(
        rx.heading("Skill packs", size="4"),
        rx.text(
            "A pack is a named set of skills attached to many bots at once; changing it changes "
            "every bot it is attached to. An admin, or the owner of every bot a pack touches, may change it.",
            size="1",
            color_scheme="gray",
        ),
        rx.cond(
            s.all_packs.length() == 0,
            rx.text("No pack yet.", size="2", color_scheme="gray", data_testid="skill-packs-empty"),
            data_table(
                ("Pack", "Skills", "Bots", ""),
                s.all_packs,
                lambda p: rx.table.row(
                    rx.table.cell(
                        rx.vstack(rx.text(p.name, weight="medium"), rx.text(p.description, size="1"))
                    ),
                    rx.table.cell(rx.text(p.skills, size="2")),
                    rx.table.cell(rx.text(p.bots, size="2")),
                    rx.table.cell(
                        rx.cond(
                            p.can_edit,
                            rx.button(
                                "Delete",
                                size="1",
                                variant="soft",
                                color_scheme="red",
                                on_click=s.delete_pack(p.id),
                                aria_label="Delete the pack " + p.name,
                                data_testid="delete-pack-" + p.name,
                            ),
                        )
                    ),
                    data_testid="skill-pack-" + p.name,
                ),
                "skill-packs",
            ),
        ),
        rx.cond(s.targets.length() > 0, pack_form()),
        spacing="2",
        width="100%",
    )
