"""A real OCI registry for tests: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1.
The one registry of the test suite (the registry adapter's, the planner's and the agent's tests).

    with serve_registry(tmp_path / "reg") as registry:              # plain HTTP, anonymous
        digest = registry.push(built, "test/img:1")                 # built: ocilayout.write_layout
    with serve_registry(dir, tls=make_tls(dir), htpasswd=...):     # Basic auth behind TLS
    with serve_token_endpoint(users, tls) as token, serve_registry(dir, token=token):  # Bearer

`make_tls` makes a throw-away CA and a server certificate for 127.0.0.1 with `cryptography`;
`serve_token_endpoint` is a small token server (the distribution token protocol, RS256 JWTs
with the signing certificate in `x5c`) that the registry trusts through `auth.token`.
`registry_available()` says why a test must skip when the binaries are missing.
"""

from __future__ import annotations

import base64
import datetime
import hmac
import json
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Address
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from tests.gitserve import free_port
from tests.realparts import Unavailable
from tests.realparts.ocilayout import BuiltImage, push_layout

REGISTRY_BINARY = "docker-registry"


def registry_available() -> str | None:
    """None when a registry can be served and images pushed here, else the reason to skip."""
    for binary in (REGISTRY_BINARY, "skopeo", "htpasswd"):
        if shutil.which(binary) is None:
            return f"{binary} is not installed (Debian packages docker-registry, skopeo, apache2-utils)"
    return None


@dataclass(frozen=True)
class TlsFiles:
    """A CA and a server certificate for 127.0.0.1 signed by it (PEM files)."""

    ca: Path
    cert: Path
    key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    subject: str, key: rsa.RSAPrivateKey, issuer: str, issuer_key: rsa.RSAPrivateKey, *, ca: bool
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def make_tls(directory: Path) -> TlsFiles:
    """Write a fresh CA (`ca.pem`) and a server certificate for 127.0.0.1 under `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_cert = _certificate("edgefleet test CA", ca_key, "edgefleet test CA", ca_key, ca=True)
    server_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    server_cert = _certificate("127.0.0.1", server_key, "edgefleet test CA", ca_key, ca=False)
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    files.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(_pem_key(server_key))
    return files


def write_htpasswd(path: Path, user: str, password: str) -> Path:
    """An htpasswd file with one bcrypt entry, written by Apache's `htpasswd -B`."""
    subprocess.run(
        ["htpasswd", "-B", "-b", "-c", str(path), user, password], check=True, capture_output=True, timeout=30
    )
    return path


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class TokenEndpoint:
    """A running token server: its realm URL, what the registry needs to trust it, and the
    scopes it was asked for (one entry per token request)."""

    realm: str
    service: str
    issuer: str
    cert: Path
    requests: list[str] = field(default_factory=list)


def _token_handler(
    endpoint: TokenEndpoint, users: dict[str, str], key: rsa.RSAPrivateKey, der: bytes
) -> type:
    class TokenHandler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

        def _user(self) -> str | None:
            header = self.headers.get("Authorization", "")
            if not header.startswith("Basic "):
                return None
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            expected = users.get(user)
            return user if expected is not None and hmac.compare_digest(expected, password) else None

        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            scopes = query.get("scope", [])
            endpoint.requests.extend(scopes or [""])
            user = self._user()
            if user is None:
                self.send_response(401)
                self.end_headers()
                return
            access = []
            for scope in scopes:
                kind, name, actions = scope.split(":")
                access.append({"type": kind, "name": name, "actions": actions.split(",")})
            now = int(time.time())
            header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
            claims = {
                "iss": endpoint.issuer, "sub": user, "aud": endpoint.service, "exp": now + 300,
                "nbf": now - 10, "iat": now, "jti": f"{now}-{len(endpoint.requests)}", "access": access,
            }  # fmt: skip
            signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
            signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
            body = json.dumps({"token": f"{signing_input}.{_b64url(signature)}", "expires_in": 300}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return TokenHandler


@contextmanager
def serve_token_endpoint(directory: Path, users: dict[str, str]) -> Iterator[TokenEndpoint]:
    """A token server on 127.0.0.1 (plain HTTP) that grants every requested action to `users`."""
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = _certificate("edgefleet test token issuer", key, "edgefleet test token issuer", key, ca=True)
    cert_path = directory / "token-signer.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    endpoint = TokenEndpoint(
        realm=f"http://127.0.0.1:{server.server_address[1]}/token",
        service="edgefleet-test-registry",
        issuer="edgefleet-test-issuer",
        cert=cert_path,
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    server.RequestHandlerClass = _token_handler(endpoint, users, key, der)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()


class RegistryStartError(Unavailable):
    """docker-registry is missing or did not come up; the message says why (tests skip with it)."""


@dataclass(frozen=True)
class RunningRegistry:
    """A registry that is up: `host` is `127.0.0.1:<port>` as it appears in image references."""

    host: str
    scheme: str
    log: Path

    def push(self, image: BuiltImage, repository_tag: str) -> str:
        """`skopeo copy` `image` to `repository_tag` ("test/img:1") of this plain-HTTP,
        anonymous registry; returns the digest it serves for the tag (Docker-Content-Digest)."""
        push_layout(image.layout, image.tag, f"{self.host}/{repository_tag}")
        repository, _, tag = repository_tag.rpartition(":")
        request = urllib.request.Request(
            f"{self.scheme}://{self.host}/v2/{repository}/manifests/{tag}", method="HEAD",
            headers={"Accept": f"{image.media_type}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return str(response.headers["Docker-Content-Digest"])


def _config(
    root: Path, port: int, tls: TlsFiles | None, htpasswd: Path | None, token: TokenEndpoint | None
) -> dict[str, object]:
    http: dict[str, object] = {"addr": f"127.0.0.1:{port}", "secret": "edgefleet-test"}
    if tls is not None:
        http["tls"] = {"certificate": str(tls.cert), "key": str(tls.key)}
    config: dict[str, object] = {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": False}},
        "storage": {"filesystem": {"rootdirectory": str(root / "data")}, "delete": {"enabled": True}},
        "http": http,
    }
    if htpasswd is not None:
        config["auth"] = {"htpasswd": {"realm": "edgefleet-test", "path": str(htpasswd)}}
    elif token is not None:
        config["auth"] = {
            "token": {
                "realm": token.realm,
                "service": token.service,
                "issuer": token.issuer,
                "rootcertbundle": str(token.cert),
            }
        }
    return config


def _wait_until_serving(port: int, process: subprocess.Popen[bytes], log: Path, deadline: float) -> None:
    import socket

    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text()[-2000:]
            raise RegistryStartError(f"docker-registry exited with {process.returncode}: {tail}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RegistryStartError(f"docker-registry did not listen on port {port}")


@contextmanager
def serve_registry(
    root: Path,
    *,
    tls: TlsFiles | None = None,
    htpasswd: Path | None = None,
    token: TokenEndpoint | None = None,
) -> Iterator[RunningRegistry]:
    """Run `docker-registry serve` with storage under `root` on a free 127.0.0.1 port.

    Raises RegistryStartError when it is missing or does not come up (see `registry_or_skip`)."""
    if shutil.which(REGISTRY_BINARY) is None:
        raise RegistryStartError(f"{REGISTRY_BINARY} is not installed (Debian package docker-registry)")
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = root / "config.yml"
    config.write_text(json.dumps(_config(root, port, tls, htpasswd, token)))  # JSON is YAML
    log = root / "registry.log"
    with log.open("wb") as sink:
        process = subprocess.Popen([REGISTRY_BINARY, "serve", str(config)], stdout=sink, stderr=sink)
    try:
        _wait_until_serving(port, process, log, time.monotonic() + 20)
        yield RunningRegistry(f"127.0.0.1:{port}", "https" if tls else "http", log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def registry_or_skip(root: Path, **options: object) -> Iterator[RunningRegistry]:
    """`serve_registry`, but a registry that cannot start skips the test with the reason."""
    import pytest

    context = serve_registry(root, **options)  # type: ignore[arg-type]
    try:
        registry = context.__enter__()
    except RegistryStartError as err:
        pytest.skip(f"docker-registry cannot start here: {err}")
    try:
        yield registry
    finally:
        context.__exit__(None, None, None)
