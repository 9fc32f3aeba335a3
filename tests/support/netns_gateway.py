"""A real OpenClaw gateway ClawNet did not start, on "another host": a separate network namespace
on this machine, reachable from ClawNet only by URL and token.

Layout (root is needed; the test VM runs as root):

    host netns                                   namespace clawnet-gw-<pid>
    10.231.N.1/30  <---- veth pair ---->  10.231.N.2/30   gateway: wss://10.231.N.2:18789 (TLS)
                                          127.0.0.1:18789 (OpenClaw adds it for same-host CLIs)

- TLS: OpenClaw's `gateway.tls` with a certificate from a throw-away test CA (made here with
  `cryptography`; SAN 10.231.N.2, 127.0.0.1, localhost). ClawNet trusts it through the standard
  `SSL_CERT_FILE` variable (the test sets it to `ca_file`); ClawNet has no TLS setting of its own.
- The gateway has its own config, state folder and HOME under `root`. From its point of view
  ClawNet connects from 10.231.N.1, i.e. NOT loopback: device identity and pairing apply.
- The "gateway host" CLI (`openclaw devices approve ...`) runs inside the namespace with the
  gateway's own environment (config, state, HOME), like an operator on that machine.
- The echo model: ClawNet's echo provider URL is http://127.0.0.1:<echo port>/v1, so two TCP
  forwarders carry it across: inside the namespace 127.0.0.1:<echo port> -> 10.231.N.1:<echo port>,
  and on the host 10.231.N.1:<echo port> -> 127.0.0.1:<echo port> (where the echo model listens).

Teardown ends every process it started, by PID (process group), and deletes the namespace and the
veth pair.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import json
import os
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from clawnet.settings import Settings

GATEWAY_PORT = 18789
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def netns_available() -> str:
    """'' when network namespaces can be made here, else why not."""
    if os.geteuid() != 0:
        return "not root"
    if shutil.which("ip") is None:
        return "no `ip` command (iproute2)"
    name = f"cn-probe-{os.getpid()}"
    probe = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"`ip netns add` failed: {probe.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return ""


# --- TLS -------------------------------------------------------------------------------------


def make_tls(folder: Path, ip: str) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate for `ip` (+ 127.0.0.1, localhost): (ca, cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ClawNet test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ip)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.IPAddress(ipaddress.ip_address(ip)),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.DNSName("localhost"),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "server.crt", folder / "server.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_file.chmod(0o600)
    return ca_file, cert_file, key_file


# --- a TCP forwarder (run as a process: `python -m tests.support.netns_gateway forward ...`) ---


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def _forward(listen_host: str, listen_port: int, target_host: str, target_port: int) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(target_host, target_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    server = await asyncio.start_server(handle, listen_host, listen_port)
    print("listening", flush=True)
    async with server:
        await server.serve_forever()


# --- the namespace and the gateway ---------------------------------------------------------


@dataclass
class NetnsGateway:
    namespace: str
    host_ip: str
    gateway_ip: str
    url: str
    token: str
    ca_file: Path
    root: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes]
    helpers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    def openclaw(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run the `openclaw` CLI on "the gateway host": inside the namespace, with the gateway's
        own config, state folder and HOME."""
        return subprocess.run(
            ["ip", "netns", "exec", self.namespace, self.env["OPENCLAW_BIN"], *args],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def log_tail(self, chars: int = 3000) -> str:
        path = self.root / "stdout.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def _run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True, text=True)


def end_process(proc: subprocess.Popen[bytes], grace: float = 10) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def start_forwarder(
    prefix: list[str], listen: tuple[str, int], target: tuple[str, int], log: Path
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                *prefix,
                sys.executable,
                "-m",
                "tests.support.netns_gateway",
                "forward",
                listen[0],
                str(listen[1]),
                target[0],
                str(target[1]),
            ],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 30
    while b"listening" not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            end_process(proc)
            raise RuntimeError(f"the forwarder {listen} -> {target} did not start: {log.read_text()}")
        time.sleep(0.05)
    return proc


@contextlib.contextmanager
def netns_gateway(settings: Settings, root: Path, *, echo_port: int | None = None) -> Iterator[NetnsGateway]:
    """Run a real gateway in its own network namespace until the block ends."""
    from clawnet.controlplane.openclaw_cli import openclaw_env

    n = os.getpid() % 200 + 20
    namespace = f"clawnet-gw-{os.getpid()}"
    host_if, ns_if = f"cngw{os.getpid() % 100000}h", f"cngw{os.getpid() % 100000}n"
    host_ip, gateway_ip = f"10.231.{n}.1", f"10.231.{n}.2"
    for folder in ("home", "state", "tls"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    started: list[subprocess.Popen[bytes]] = []
    proc: subprocess.Popen[bytes] | None = None
    try:
        _run("ip", "netns", "add", namespace)
        _run("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        _run("ip", "link", "set", ns_if, "netns", namespace)
        _run("ip", "addr", "add", f"{host_ip}/30", "dev", host_if)
        _run("ip", "link", "set", host_if, "up")
        _run("ip", "netns", "exec", namespace, "ip", "addr", "add", f"{gateway_ip}/30", "dev", ns_if)
        _run("ip", "netns", "exec", namespace, "ip", "link", "set", ns_if, "up")
        _run("ip", "netns", "exec", namespace, "ip", "link", "set", "lo", "up")

        ca_file, cert_file, key_file = make_tls(root / "tls", gateway_ip)
        token = secrets.token_urlsafe(32)
        config = root / "openclaw.json5"
        config.write_text(
            json.dumps(
                {
                    "gateway": {
                        "mode": "local",
                        "port": GATEWAY_PORT,
                        "bind": "custom",
                        "customBindHost": gateway_ip,
                        "auth": {"mode": "token", "token": token},
                        "tls": {
                            "enabled": True,
                            "autoGenerate": False,
                            "certPath": str(cert_file),
                            "keyPath": str(key_file),
                        },
                    },
                    "logging": {"file": str(root / "openclaw.log")},
                }
            )
        )
        env = openclaw_env(
            settings, config_path=config, state_dir=root / "state", home=root / "home", has_channels=False
        )
        env["OPENCLAW_BIN"] = str(settings.openclaw_bin)

        if echo_port:
            started.append(
                start_forwarder([], (host_ip, echo_port), ("127.0.0.1", echo_port), root / "forward-host.log")
            )
            started.append(
                start_forwarder(
                    ["ip", "netns", "exec", namespace],
                    ("127.0.0.1", echo_port),
                    (host_ip, echo_port),
                    root / "forward-ns.log",
                )
            )

        with (root / "stdout.log").open("wb") as out:
            # `ip netns exec` execs the command: this PID is the gateway's.
            proc = subprocess.Popen(
                ["ip", "netns", "exec", namespace, str(settings.openclaw_bin), "gateway", "run"],
                env=env,
                cwd=root,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        context = ssl.create_default_context(cafile=str(ca_file))
        deadline = time.monotonic() + 240
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    "the namespaced gateway exited:\n" + (root / "stdout.log").read_text()[-3000:]
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    "the namespaced gateway was not ready within 240 s:\n"
                    + (root / "stdout.log").read_text()[-3000:]
                )
            try:
                with urllib.request.urlopen(
                    f"https://{gateway_ip}:{GATEWAY_PORT}/readyz", timeout=3, context=context
                ) as resp:
                    if json.loads(resp.read()).get("ready"):
                        break
            except (OSError, ValueError):
                pass
            time.sleep(0.3)
        yield NetnsGateway(
            namespace=namespace,
            host_ip=host_ip,
            gateway_ip=gateway_ip,
            url=f"wss://{gateway_ip}:{GATEWAY_PORT}",
            token=token,
            ca_file=ca_file,
            root=root,
            env=env,
            proc=proc,
            helpers=started,
        )
    finally:
        if proc is not None:
            end_process(proc)
        for helper in started:
            end_process(helper, grace=3)
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        subprocess.run(
            ["ip", "link", "del", host_if], capture_output=True
        )  # gone with the namespace, normally


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "forward":
        asyncio.run(_forward(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])))
    else:
        sys.exit("usage: python -m tests.support.netns_gateway forward LISTEN_HOST PORT TARGET_HOST PORT")
