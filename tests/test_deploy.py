"""The deploy kit (deploy/, .dockerignore): what an operator relies on, checked without Docker or systemd.

No Docker engine runs in CI, and systemd may not exist there, so this reads the files: the
Dockerfile runs deploy/install.sh (which CI also runs into a fresh venv), as a non-root user,
with the data on a volume and a health check that asks the bot whether it is connected; the
systemd unit restarts and is hardened; .env.example names every setting. ``.ci/run`` adds
``systemd-analyze verify`` where systemd-analyze exists.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import tomllib
from functools import cache
from pathlib import Path

import pytest
import yaml
from helpers import DESIGN_SETTINGS as DESIGN_SETTING_NAMES
from helpers import ROOT

from bot.settings import Settings

DEPLOY = ROOT / "deploy"
SETTING_NAMES = {name.upper() for name in Settings.model_fields}
DESIGN_SETTINGS = set(DESIGN_SETTING_NAMES)


# --- parsers -------------------------------------------------------------------------------------


@cache
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order; continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, rest = (pending + line).partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends in a continuation"
    return instructions


def final_stage() -> list[tuple[str, str]]:
    stages = [i for i, (keyword, _) in enumerate(dockerfile()) if keyword == "FROM"]
    return dockerfile()[stages[-1] :]


def docker_env(instructions: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, rest in instructions:
        if keyword == "ENV":
            for word in shlex.split(rest):
                name, _, value = word.partition("=")
                env[name] = value
    return env


@cache
def unit() -> dict[str, list[tuple[str, str]]]:
    """A systemd unit as {section: [(key, value), …]}; repeated keys are kept (systemd allows them)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for raw in (DEPLOY / "membrane-tutor.service").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = line.strip("[]")
            sections.setdefault(current, [])
            continue
        assert current is not None, f"a key outside any section: {line}"
        key, sep, value = line.partition("=")
        assert sep, f"not a key=value line: {line}"
        sections[current].append((key.strip(), value.strip()))
    return sections


def service(key: str) -> list[str]:
    return [value for name, value in unit()["Service"] if name == key]


def one(key: str) -> str:
    values = service(key)
    assert len(values) == 1, f"{key}= appears {len(values)} times in [Service]"
    return values[0]


def env_example() -> list[str]:
    return (DEPLOY / ".env.example").read_text(encoding="utf-8").splitlines()


SETTING_LINE = re.compile(r"^(?:# )?([A-Z][A-Z0-9_]*)=(.*)$")


# --- Dockerfile ----------------------------------------------------------------------------------


def test_the_image_builds_from_a_slim_python_that_the_package_supports() -> None:
    args = {rest.split("=", 1)[0]: rest.split("=", 1)[1] for keyword, rest in dockerfile() if keyword == "ARG"}
    bases = [rest.split()[0] for keyword, rest in dockerfile() if keyword == "FROM"]
    assert bases and all(base == "${PYTHON_IMAGE}" for base in bases)
    image = args["PYTHON_IMAGE"]
    match = re.fullmatch(r"python:3\.(\d+)-slim(?:-\w+)?", image)
    assert match, image
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    assert requires == ">=3.11" and int(match.group(1)) >= 11


def test_the_image_installs_with_deploy_install_sh_into_opt_venv() -> None:
    runs = [rest for keyword, rest in dockerfile() if keyword == "RUN"]
    assert "sh deploy/install.sh /opt/venv /src" in runs, runs
    assert ("COPY", "--from=build /opt/venv /opt/venv") in final_stage()
    env = docker_env(final_stage())
    assert env["PATH"].startswith("/opt/venv/bin:")


def test_the_bot_runs_as_a_non_root_user() -> None:
    users = [rest for keyword, rest in final_stage() if keyword == "USER"]
    assert users, "no USER: the bot would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0") and user == "10001"
    last_user = max(i for i, (keyword, _) in enumerate(final_stage()) if keyword == "USER")
    assert all(keyword != "RUN" for keyword, _ in final_stage()[last_user:]), "RUN after USER"
    assert any("useradd" in rest and "--uid 10001" in rest for keyword, rest in final_stage() if keyword == "RUN")


def test_data_lives_on_a_volume_and_the_settings_point_there() -> None:
    volumes = [rest for keyword, rest in final_stage() if keyword == "VOLUME"]
    assert volumes == ["/data"]
    env = docker_env(final_stage())
    assert env["TUTOR_DB"] == "/data/membrane-tutor.db"
    assert env["TUTOR_HEALTH_FILE"] == "/data/health.json"
    assert env["MPLBACKEND"] == "Agg"
    assert env["MPLCONFIGDIR"].startswith("/tmp/")  # writable with a read-only root file system
    assert [rest for keyword, rest in final_stage() if keyword == "WORKDIR"] == ["/app"]
    chown = [rest for keyword, rest in final_stage() if keyword == "RUN" and "chown" in rest]
    assert chown and "10001:10001 /data" in chown[0], "the volume must belong to the bot's user"


def test_the_health_check_asks_the_bot_whether_it_is_connected() -> None:
    checks = [rest for keyword, rest in final_stage() if keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    options, _, command = checks[0].partition("CMD ")
    assert command.strip() == '["membrane-tutor", "health", "--max-age", "60"]'
    assert "--interval=30s" in options and "--start-period=" in options


def test_the_container_runs_the_bot() -> None:
    cmds = [rest for keyword, rest in final_stage() if keyword == "CMD"]
    assert cmds == ['["membrane-tutor", "run"]']
    assert ("STOPSIGNAL", "SIGTERM") in final_stage()


def test_dockerignore_lets_in_exactly_what_the_build_needs() -> None:
    """An allowlist: everything hatchling packs into the wheel, and nothing secret."""
    lines = [line for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines() if line.strip()]
    rules = [line for line in lines if not line.startswith("#")]
    assert rules[0] == "*", "the .dockerignore must start by excluding everything"
    allowed = {rule[1:] for rule in rules if rule.startswith("!")}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wheel = project["tool"]["hatch"]["build"]["targets"]["wheel"]
    needed = {"pyproject.toml", project["project"]["readme"], "deploy/install.sh"}
    needed |= set(wheel["packages"]) | set(wheel["force-include"])
    needed.add(project["tool"]["hatch"]["version"]["path"].split("/")[0])
    assert needed <= allowed, needed - allowed
    for path in allowed:
        assert (ROOT / path).exists(), path
    assert not any(name in allowed for name in (".env", ".git", "tests", ".venv"))


def test_install_sh_is_posix_sh_and_builds_a_venv_then_shows_the_version() -> None:
    script = (DEPLOY / "install.sh").read_text(encoding="utf-8")
    assert script.startswith("#!/bin/sh\n") and "set -eu" in script
    assert '-m venv "$venv"' in script
    assert 'pip" install --no-cache-dir' in script
    assert '"$venv/bin/membrane-tutor" --version' in script
    sh = shutil.which("sh")
    if sh:
        assert subprocess.run([sh, "-n", str(DEPLOY / "install.sh")], check=False).returncode == 0


# --- docker-compose.yml ----------------------------------------------------------------------------


def test_compose_runs_the_image_with_env_file_volume_restart_and_a_read_only_root() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))
    tutor = compose["services"]["tutor"]
    assert tutor["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert tutor["env_file"] == ".env"
    assert tutor["volumes"] == ["tutor-data:/data"] and "tutor-data" in compose["volumes"]
    assert tutor["restart"] == "unless-stopped"
    assert tutor["read_only"] is True
    assert any(mount.split(":")[0] == "/tmp" for mount in tutor["tmpfs"])
    assert docker_env(final_stage())["MPLCONFIGDIR"].startswith("/tmp/")
    assert tutor["cap_drop"] == ["ALL"] and "no-new-privileges:true" in tutor["security_opt"]
    assert "healthcheck" not in tutor, "the image's HEALTHCHECK is the one to use"


# --- the systemd unit ---------------------------------------------------------------------------------


def test_the_unit_runs_the_installed_bot_as_its_own_user() -> None:
    assert one("User") == "membrane-tutor"
    assert one("EnvironmentFile") == "/etc/membrane-tutor/env"
    assert one("WorkingDirectory") == "/var/lib/membrane-tutor"
    assert one("StateDirectory") == "membrane-tutor"
    assert one("ExecStart") == "/opt/membrane-tutor/venv/bin/membrane-tutor run"
    assert "/var/lib/membrane-tutor" in one("ReadWritePaths").split()
    environment = dict(word.split("=", 1) for line in service("Environment") for word in shlex.split(line))
    assert environment["TUTOR_DB"] == "/var/lib/membrane-tutor/membrane-tutor.db"
    assert environment["TUTOR_HEALTH_FILE"] == "/var/lib/membrane-tutor/health.json"
    assert environment["MPLCONFIGDIR"].startswith("/tmp/")  # PrivateTmp: writable under ProtectSystem=strict
    assert ("WantedBy", "multi-user.target") in unit()["Install"]


def test_the_unit_restarts_and_stops_cleanly() -> None:
    assert one("Restart") == "on-failure"
    assert re.fullmatch(r"\d+s?", one("RestartSec"))
    assert one("RestartPreventExitStatus") == "2"  # a missing token cannot fix itself
    assert one("KillSignal") == "SIGTERM"
    assert re.fullmatch(r"\d+s?", one("TimeoutStopSec"))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("ProtectKernelTunables", "yes"),
        ("ProtectKernelModules", "yes"),
        ("ProtectKernelLogs", "yes"),
        ("ProtectControlGroups", "yes"),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
        ("LockPersonality", "yes"),
        ("MemoryDenyWriteExecute", "yes"),
        ("CapabilityBoundingSet", ""),
        ("UMask", "0077"),
        ("RestrictSUIDSGID", "yes"),
        ("SystemCallArchitectures", "native"),
    ],
)
def test_the_unit_is_hardened(key: str, value: str) -> None:
    assert one(key) == value


def test_the_unit_filters_system_calls() -> None:
    assert service("SystemCallFilter")[0] == "@system-service"


# --- .env.example ------------------------------------------------------------------------------------


def test_env_example_lists_every_setting_once_each_with_a_comment() -> None:
    lines = env_example()
    named = [(i, match.group(1)) for i, line in enumerate(lines) if (match := SETTING_LINE.match(line))]
    names = [name for _, name in named]
    assert sorted(names) == sorted(SETTING_NAMES), "every Settings field, and nothing else"
    assert (
        DESIGN_SETTINGS
        | {"TUTOR_HEALTH_FILE", "TUTOR_FIGURE_TIMEOUT", "TUTOR_FIGURE_WORKERS", "TUTOR_LOG_INTERACTIONS"}
        == SETTING_NAMES
    )
    assert len(names) == len(set(names))
    for i, name in named:
        assert lines[i - 1].startswith("# ") and not SETTING_LINE.match(lines[i - 1]), f"{name} has no comment"


def test_env_example_leaves_the_token_empty_and_the_rest_commented_out() -> None:
    active = [line for line in env_example() if line and not line.startswith("#")]
    assert active == ["DISCORD_TOKEN="]


def test_env_example_as_a_env_file_is_valid_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    shutil.copy(DEPLOY / ".env.example", tmp_path / ".env")
    settings = Settings()
    assert settings.token() is None
    assert settings.tutor_retention_days == 180
    # …and each commented-out value, once uncommented, is accepted as written
    uncommented = [line.removeprefix("# ") for line in env_example() if SETTING_LINE.match(line)]
    (tmp_path / ".env").write_text("\n".join(line for line in uncommented if not line.endswith("=")) + "\n")
    settings = Settings()
    assert settings.tutor_db == Path("/data/membrane-tutor.db")
    assert settings.health_file() == Path("/data/health.json")


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in SETTING_NAMES:
        assert f"`{name}`" in readme, name


def test_the_readme_explains_running_it_on_a_server() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Run it on your server" in readme
    section = readme.split("## Run it on your server", 1)[1].split("\n## ", 1)[0]
    for needed in (
        "scope=bot+applications.commands",
        "integration_type=0",
        "scope=applications.commands&integration_type=1",
        "docker compose -f deploy/docker-compose.yml up -d",
        "membrane-tutor sync --guild",
        "deploy/install.sh",
        "membrane-tutor health",
        "/var/lib/membrane-tutor",
        "/data",
    ):
        assert needed in section, needed
