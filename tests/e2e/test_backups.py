"""Settings -> Backups in a real Chromium against a real ClawNet and the real backup engine: an
admin's form says what is wrong per field, saving a schedule runs the first backup at once, "Run
backup now" runs another, and the page shows each result (OK, size, path, encrypted) as the
control plane finishes it, without a reload. The archives are in the chosen folder and the
passphrase never comes back to the browser. An operator does not see the section."""

from __future__ import annotations

import importlib.util

import pytest
from playwright.sync_api import expect

from clawnet.enums import Role
from tests.e2e.helpers import make_account, register, sign_in
from tests.support.server import running_clawnet

pytestmark = pytest.mark.e2e
ADMIN = "backup-admin@example.com"
OPERATOR = "backup-operator@example.com"
PASSPHRASE = "e2e backup passphrase"

if importlib.util.find_spec("clawnet.backup") is None:
    pytest.skip(
        "the backup engine (clawnet.backup, issue 17's backup part) is not in this tree yet",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_clawnet(tmp_path_factory.mktemp("clawnet-backups")) as srv:
        yield srv


def test_an_admin_schedules_backups_runs_one_now_and_sees_the_results(server, new_page, tmp_path):
    folder = tmp_path / "archives"
    page = new_page()
    register(page, server.url, ADMIN, "Backup Admin", "backupadmin")  # the first account: admin
    expect(page.get_by_test_id("dashboard-page")).to_be_visible()
    page.goto(f"{server.url}/settings#backups")
    section = page.get_by_test_id("settings-backups")
    expect(section).to_be_visible()
    expect(page.get_by_test_id("backups-last")).to_contain_text("No backup has run yet")

    page.get_by_test_id("backups-enabled").click()
    page.get_by_label("Every (hours)").fill("0")
    page.get_by_label("Backups to keep").fill("3")
    page.get_by_label("Folder").fill("relative/path")
    page.get_by_test_id("backups-save").click()
    expect(page.get_by_test_id("backups-interval-error")).to_contain_text("whole number of hours")
    expect(page.get_by_test_id("backups-folder-error")).to_contain_text("full path")

    page.get_by_label("Every (hours)").fill("24")
    page.get_by_label("Folder").fill(str(folder))
    page.get_by_test_id("backups-passphrase").fill(PASSPHRASE)
    page.get_by_test_id("backups-save").click()
    expect(page.get_by_test_id("backups-interval-error")).to_have_count(0)
    expect(page.get_by_test_id("backups-passphrase")).to_have_value("")
    # Turning the schedule on runs the first backup at once; the page follows it.
    expect(page.get_by_test_id("backups-last-state")).to_have_text("OK", timeout=180_000)
    expect(page.get_by_test_id("backups-last")).to_contain_text("encrypted")
    expect(page.get_by_test_id("backups-next-due")).to_contain_text("UTC")

    page.get_by_test_id("backups-run-now").click()
    rows = page.get_by_test_id("backups-run-row")
    expect(rows).to_have_count(2, timeout=180_000)
    expect(rows.first).to_contain_text("manual")
    expect(rows.first.get_by_test_id("backups-run-state")).to_have_text("OK", timeout=180_000)
    expect(page.get_by_test_id("backups-last-path")).to_contain_text(str(folder))
    archives = [p for p in folder.iterdir() if p.is_file()]
    assert len(archives) >= 2, archives
    assert PASSPHRASE not in page.content()

    make_account(server, OPERATOR, Role.OPERATOR, "backupop")
    other = new_page()
    sign_in(other, server.url, OPERATOR)
    other.goto(f"{server.url}/settings")
    expect(other.get_by_test_id("settings-budgets")).to_be_visible()  # the page is loaded
    expect(other.get_by_test_id("settings-backups")).to_have_count(0)
