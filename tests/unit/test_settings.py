"""Settings: defaults, environment overrides, and clear errors for bad values."""

from pathlib import Path

import pytest

from clawnet.settings import SettingsError, load_settings


def test_defaults_put_an_absolute_sqlite_database_in_the_data_folder(tmp_path: Path):
    s = load_settings({"CLAWNET_DATA_DIR": str(tmp_path)})
    assert s.data_dir == tmp_path.resolve()
    assert s.database_url == f"sqlite:///{tmp_path.resolve() / 'clawnet.db'}"
    assert s.is_sqlite
    assert s.key_file == tmp_path.resolve() / "keys.json"
    assert (s.frontend_port, s.gateway_port_spacing, s.pool_capacity) == (3000, 120, 100)
    assert (s.login_max_failures, s.login_failure_window_s) == (25, 300)
    assert not s.stop_gateways_on_exit  # gateways outlive a ClawNet restart; the next start adopts them
    assert load_settings(
        {"CLAWNET_DATA_DIR": str(tmp_path), "CLAWNET_STOP_GATEWAYS_ON_EXIT": "true"}
    ).stop_gateways_on_exit


def test_relative_sqlite_path_is_made_absolute(tmp_path: Path):
    s = load_settings({"CLAWNET_DATA_DIR": str(tmp_path), "DATABASE_URL": "sqlite:///rel/x.db"})
    assert s.database_url == f"sqlite:///{tmp_path.resolve() / 'rel/x.db'}"


def test_postgres_urls_use_the_psycopg_driver(tmp_path: Path):
    s = load_settings(
        {"CLAWNET_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgresql://u:p@127.0.0.1/clawnet"}
    )
    assert s.database_url == "postgresql+psycopg://u:p@127.0.0.1/clawnet"
    assert not s.is_sqlite


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL scheme 'mysql' is not supported"),
        ({"DATABASE_URL": "sqlite:///:memory:"}, "in-memory"),
        ({"CLAWNET_PORT": "abc"}, "CLAWNET_PORT must be a whole number"),
        ({"CLAWNET_PORT": "70000"}, "CLAWNET_PORT must be a TCP port"),
        ({"CLAWNET_GATEWAY_PORT_SPACING": "50"}, "at least 120"),
        ({"CLAWNET_COOKIE_SECURE": "maybe"}, "true or false"),
        ({"CLAWNET_CONTROLLER": "sideways"}, "CLAWNET_CONTROLLER"),
    ],
)
def test_bad_values_raise_errors_naming_the_variable(tmp_path: Path, env: dict[str, str], message: str):
    with pytest.raises(SettingsError, match=message):
        load_settings({"CLAWNET_DATA_DIR": str(tmp_path), **env})


def test_overrides_are_read(tmp_path: Path):
    s = load_settings(
        {
            "CLAWNET_DATA_DIR": str(tmp_path),
            "CLAWNET_PORT": "3100",
            "CLAWNET_POOL_CAPACITY": "7",
            "CLAWNET_GATEWAY_BASE_PORT": "20000",
            "CLAWNET_OPENCLAW_BIN": "/opt/openclaw",
        }
    )
    assert (s.frontend_port, s.pool_capacity, s.gateway_base_port) == (3100, 7, 20000)
    assert s.openclaw_bin == Path("/opt/openclaw")
    assert s.public_url == "http://localhost:3100"


def test_a_gateway_runs_with_two_malloc_arenas_and_a_heap_limit_for_its_pool(tmp_path: Path, monkeypatch):
    from clawnet.controlplane.openclaw_cli import openclaw_env

    def env_of(settings_env: dict[str, str]) -> dict[str, str]:
        settings = load_settings({"CLAWNET_DATA_DIR": str(tmp_path), **settings_env})
        return openclaw_env(
            settings, config_path=tmp_path / "c", state_dir=tmp_path / "s", home=tmp_path / "h"
        )

    monkeypatch.delenv("NODE_OPTIONS", raising=False)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    env = env_of({})
    assert env["MALLOC_ARENA_MAX"] == "2"
    assert env["NODE_OPTIONS"] == "--max-old-space-size=1024"  # 100 agents
    assert env_of({"CLAWNET_POOL_CAPACITY": "250"})["NODE_OPTIONS"] == "--max-old-space-size=1268"
    assert "NODE_OPTIONS" not in env_of({"CLAWNET_GATEWAY_HEAP_MB": "0"})  # Node's own default
    # What the person running ClawNet set wins.
    monkeypatch.setenv("NODE_OPTIONS", "--max-old-space-size=3000 --trace-warnings")
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    env = env_of({})
    assert env["NODE_OPTIONS"] == "--max-old-space-size=3000 --trace-warnings"
    assert env["MALLOC_ARENA_MAX"] == "4"
    monkeypatch.setenv("NODE_OPTIONS", "--trace-warnings")
    assert (
        env_of({"CLAWNET_GATEWAY_HEAP_MB": "2048"})["NODE_OPTIONS"]
        == "--trace-warnings --max-old-space-size=2048"
    )
