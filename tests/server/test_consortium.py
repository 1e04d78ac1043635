"""Consortium key material: CA, SuperLink TLS certificate, SuperNode key pairs (and a live SuperLink)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from server.consortium import make_ca, make_node_keys, make_server_certificate

BIN = Path(sys.executable).parent


@pytest.fixture
def ca(tmp_path: Path) -> tuple[Path, Path]:
    return make_ca(tmp_path / "ca")


@pytest.fixture
def server(ca: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    return make_server_certificate(*ca, tmp_path / "link")


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_ca_is_a_self_signed_certificate_authority(ca):
    cert = _cert(ca[0])
    cert.verify_directly_issued_by(cert)
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert constraints.critical and constraints.value.ca
    assert usage.critical and usage.value.key_cert_sign and not usage.value.digital_signature
    key = serialization.load_pem_private_key(ca[1].read_bytes(), password=None)
    assert key.public_key().public_numbers() == cert.public_key().public_numbers()
    assert cert.subject.rfc4514_string() == "CN=FleetBench consortium CA"


def test_server_certificate_is_signed_by_the_ca(ca, server):
    issuer, cert = _cert(ca[0]), _cert(server[0])
    public = issuer.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(hashes.SHA384()))
    cert.verify_directly_issued_by(issuer)
    assert cert.issuer == issuer.subject
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]


def test_server_certificate_is_not_signed_by_another_ca(server, tmp_path):
    other, _ = make_ca(tmp_path / "other")
    with pytest.raises(InvalidSignature):  # same subject name, other key
        _cert(server[0]).verify_directly_issued_by(_cert(other))


def test_subject_alternative_names(ca, server, tmp_path):
    sans = _cert(server[0]).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]

    cert, _ = make_server_certificate(
        *ca, tmp_path / "public", hostnames=("link.example.org", "localhost"), ip_addresses=("192.0.2.7", "::1")
    )
    sans = _cert(cert).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["link.example.org", "localhost"]
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["192.0.2.7", "::1"]


def test_private_keys_are_0o600_and_public_files_0o644(ca, server, tmp_path):
    node_private, node_public = make_node_keys(tmp_path / "site", "operator-01")
    for private in (ca[1], server[1], node_private):
        assert _mode(private) == 0o600, private
    for public in (ca[0], server[0], node_public):
        assert _mode(public) == 0o644, public


def test_node_keys_are_openssh_ecdsa_p384(tmp_path):
    private_path, public_path = make_node_keys(tmp_path, "operator-01")
    line = public_path.read_text()
    assert line.startswith("ecdsa-sha2-nistp384 ") and line.endswith(" operator-01\n")
    public = serialization.load_ssh_public_key(line.encode())
    assert isinstance(public, ec.EllipticCurvePublicKey) and isinstance(public.curve, ec.SECP384R1)
    # the loader flower-supernode uses for --auth-supernode-private-key (no passphrase)
    assert private_path.read_text().startswith("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    private = serialization.load_ssh_private_key(private_path.read_bytes(), password=None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    assert private.public_key().public_numbers() == public.public_numbers()


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen not installed")
def test_ssh_keygen_reads_the_node_keys(tmp_path):
    private_path, public_path = make_node_keys(tmp_path, "operator-01")
    fingerprint = subprocess.run(["ssh-keygen", "-l", "-f", str(public_path)], capture_output=True, text=True)
    assert fingerprint.stdout.startswith("384 SHA256:") and fingerprint.stdout.rstrip().endswith("(ECDSA)")
    derived = subprocess.run(["ssh-keygen", "-y", "-f", str(private_path)], capture_output=True, text=True)
    assert derived.stdout.split()[:2] == public_path.read_text().split()[:2]


def test_existing_files_are_never_overwritten(ca, tmp_path):
    before = ca[1].read_bytes()
    with pytest.raises(FileExistsError, match=r"ca\.key"):
        make_ca(ca[0].parent)
    assert ca[1].read_bytes() == before
    make_node_keys(tmp_path / "site", "operator-01")
    with pytest.raises(FileExistsError, match=r"operator-01\.key"):
        make_node_keys(tmp_path / "site", "operator-01")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hostnames": (), "ip_addresses": ()}, "both empty"),
        ({"hostnames": ("localhost:8000",)}, "hostnames entry 'localhost:8000'"),
        ({"ip_addresses": ("300.1.2.3",)}, "ip_addresses entry '300.1.2.3'"),
        ({"hostnames": "localhost"}, "sequences of strings"),
        ({"days": 0}, "days must be"),
    ],
)
def test_server_certificate_settings_are_checked(ca, tmp_path, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make_server_certificate(*ca, tmp_path / "link", **kwargs)
    assert not (tmp_path / "link").exists()


def test_ca_files_must_be_a_ca_and_its_key(ca, server, tmp_path):
    other_cert, other_key = make_ca(tmp_path / "other")
    with pytest.raises(ValueError, match="does not belong to ca_cert"):
        make_server_certificate(ca[0], other_key, tmp_path / "a")
    with pytest.raises(ValueError, match="not a CA certificate"):
        make_server_certificate(server[0], server[1], tmp_path / "b")
    with pytest.raises(ValueError, match="not a readable PEM certificate"):
        make_server_certificate(tmp_path / "missing.pem", ca[1], tmp_path / "c")
    with pytest.raises(ValueError, match="not a readable, unencrypted PEM private key"):
        make_server_certificate(ca[0], other_cert, tmp_path / "d")


@pytest.mark.parametrize("name", ["", "../escape", "op 01", "-leading-dash"])
def test_node_names_are_checked(tmp_path, name):
    with pytest.raises(ValueError, match="not a valid site name"):
        make_node_keys(tmp_path, name)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _tls_handshake(ca_cert: Path, port: int, deadline: float) -> dict:
    context = ssl.create_default_context(cafile=str(ca_cert))
    while True:
        try:
            with (
                socket.create_connection(("127.0.0.1", port), timeout=2) as raw,
                context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
            ):
                return tls.getpeercert()
        except (ConnectionRefusedError, ConnectionResetError, TimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.skipif(
    any(shutil.which(tool, path=str(BIN)) is None for tool in ("flower-superlink", "flower-supernode", "flwr")),
    reason="flower-superlink, flower-supernode or flwr not installed next to this Python",
)
def test_superlink_with_these_files_serves_tls_and_admits_a_registered_node(ca, server, tmp_path):
    port = _free_port()
    node_private, node_public = make_node_keys(tmp_path / "site", "operator-01")
    flwr_home = tmp_path / "flwr-home"
    flwr_home.mkdir()
    (flwr_home / "config.toml").write_text(
        f'[superlink]\ndefault = "consortium"\n\n[superlink.consortium]\naddress = "127.0.0.1:{port}"\n'
        f'root-certificates = "{ca[0]}"\n'
    )
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # both daemons start flower-superexec by name
        "FLWR_HOME": str(flwr_home),
        "FLWR_TELEMETRY_ENABLED": "0",
    }
    command = [
        str(BIN / "flower-superlink"),
        "--ssl-ca-certfile", str(ca[0]),
        "--ssl-certfile", str(server[0]),
        "--ssl-keyfile", str(server[1]),
        "--enable-supernode-auth",
        "--database", str(tmp_path / "state.db"),
        "--disable-runtime-dependency-installation",
        "--host", "127.0.0.1",
        "--port", str(port),
    ]  # fmt: skip
    # Logs go to a file, never a pipe: the SuperLink's flower-superexec child inherits its stdout.
    with (tmp_path / "superlink.log").open("w") as log:
        superlink = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    supernode = None
    try:
        peer = _tls_handshake(ca[0], port, deadline=time.monotonic() + 60)
        assert ("IP Address", "127.0.0.1") in peer["subjectAltName"]

        def flwr(*args: str) -> dict:
            with (tmp_path / "flwr.log").open("w+") as out:
                subprocess.run([str(BIN / "flwr"), *args, "--format", "json"], env=env, stdout=out, timeout=120)
                out.seek(0)
                text = out.read()
            return json.loads(text[text.index("{") :])

        registered = flwr("supernode", "register", str(node_public), "consortium")
        assert registered["success"], registered
        listed = flwr("supernode", "list", "consortium")
        assert [(n["node-id"], n["status"]) for n in listed["nodes"]] == [(str(registered["node-id"]), "registered")]

        node_command = [
            str(BIN / "flower-supernode"),
            "--superlink", f"127.0.0.1:{port}",
            "--root-certificates", str(ca[0]),
            "--auth-supernode-private-key", str(node_private),
            "--port", str(_free_port()),
        ]  # fmt: skip
        with (tmp_path / "supernode.log").open("w") as log:
            supernode = subprocess.Popen(node_command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
        deadline = time.monotonic() + 60
        while "Activated node_id" not in (tmp_path / "superlink.log").read_text(errors="replace"):
            assert supernode.poll() is None, (tmp_path / "supernode.log").read_text(errors="replace")
            assert time.monotonic() < deadline, "the SuperNode was not activated within 60 s"
            time.sleep(0.2)
        assert [n["status"] for n in flwr("supernode", "list", "consortium")["nodes"]] == ["online"]
    finally:
        for process in (supernode, superlink):
            if process is None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
