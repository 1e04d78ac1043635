"""Consortium key material for a FleetBench deployment on Flower's deployment engine.

A consortium runs one SuperLink, reached over TLS, and admits only SuperNodes whose public keys it
has registered (``flower-superlink --enable-supernode-auth``). This module writes the files that
needs, on the machine that calls it:

- the consortium's certificate authority (``make_ca``), kept by the consortium operator;
- the SuperLink's TLS certificate, signed by that CA (``make_server_certificate``);
- a site's SuperNode key pair (``make_node_keys``), made by each site on its own machine; only the
  public key leaves it, to be registered with ``flwr supernode register``.

Private keys are written with file mode 0o600 and never returned; existing files are never
overwritten. How the files are used with Flower 1.42 (flags, commands, what was seen) is written
down in docs/deploying-facts.md.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# NIST P-384 throughout: Flower's node authentication takes NIST curves (SECP384R1 in its docs),
# and one curve for every key keeps the consortium's material uniform.
CURVE = ec.SECP384R1()
# File names inside ``out_dir``; the CLI and the docs refer to these.
CA_CERT_NAME = "ca.pem"
CA_KEY_NAME = "ca.key"
SERVER_CERT_NAME = "server.pem"
SERVER_KEY_NAME = "server.key"
NODE_PUBLIC_SUFFIX = ".pub"
NODE_PRIVATE_SUFFIX = ".key"
PRIVATE_MODE = 0o600
PUBLIC_MODE = 0o644
# Backdating absorbs clock skew between the machine that signs and the machines that verify.
CLOCK_SKEW = datetime.timedelta(minutes=5)
NODE_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _check_days(days: int, setting: str) -> None:
    if not isinstance(days, int) or days < 1:
        raise ValueError(f"{setting} must be a whole number of days >= 1, got {days!r}")


def _check_absent(paths: Sequence[Path]) -> None:
    present = [str(path) for path in paths if path.exists()]
    if present:
        raise FileExistsError(
            f"{', '.join(present)} already exist(s); key material is never overwritten: "
            "move the old files away or choose another out_dir"
        )


def _prepare_dir(out_dir: Path | str) -> Path:
    out = Path(out_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"out_dir {out} is a file; pass a directory")
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    return out


def _write(path: Path, data: bytes, mode: int) -> None:
    # O_EXCL: a file that appeared since the check is never overwritten; the mode is set on
    # creation, so a private key is never readable by others, not even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)  # exact mode, whatever the umask
        with os.fdopen(fd, "wb") as handle:
            fd = -1
            handle.write(data)
    finally:
        if fd != -1:
            os.close(fd)


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _validity(days: int) -> tuple[datetime.datetime, datetime.datetime]:
    now = datetime.datetime.now(datetime.UTC)
    return now - CLOCK_SKEW, now + datetime.timedelta(days=days)


def make_ca(out_dir: Path | str, name: str = "FleetBench consortium CA", days: int = 3650) -> tuple[Path, Path]:
    """Self-signed certificate authority of the consortium, for the SuperLink's TLS certificate.

    The certificate carries basic constraints CA:true (path length 0: it signs server
    certificates, not further CAs) and key usage certificate signing and CRL signing, both
    critical. The key is ECDSA on NIST P-384, the signature ECDSA with SHA-384.

    Parameters
    ----------
    out_dir : path
        Directory for ``ca.pem`` and ``ca.key``; created (mode 0o700) if missing.
    name : str, default "FleetBench consortium CA"
        Common name of the CA, shown by ``openssl x509 -subject``.
    days : int, default 3650
        Validity [days], counted from now (backdated 5 minutes for clock skew).

    Returns
    -------
    cert_path : Path
        PEM certificate, mode 0o644. SuperNodes pass it as ``--root-certificates``, the SuperLink
        as ``--ssl-ca-certfile``, ``flwr`` as ``root-certificates`` in its connection config.
    key_path : Path
        PEM private key (PKCS#8, unencrypted), mode 0o600. Keep it off the SuperLink host.

    Raises
    ------
    FileExistsError
        If ``ca.pem`` or ``ca.key`` already exists in ``out_dir``.
    ValueError
        If ``name`` is empty or ``days`` is not a whole number >= 1.
    """
    _check_days(days, "days")
    if not name.strip():
        raise ValueError("name of the CA must not be empty, e.g. 'FleetBench consortium CA'")
    out = _prepare_dir(out_dir)
    cert_path, key_path = out / CA_CERT_NAME, out / CA_KEY_NAME
    _check_absent([cert_path, key_path])

    key = ec.generate_private_key(CURVE)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    not_before, not_after = _validity(days)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
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
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA384())
    )
    _write(key_path, _private_pem(key), PRIVATE_MODE)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), PUBLIC_MODE)
    return cert_path, key_path


def _load_ca(ca_cert: Path, ca_key: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    try:
        cert = x509.load_pem_x509_certificate(ca_cert.read_bytes())
    except (OSError, ValueError) as error:
        raise ValueError(
            f"ca_cert {ca_cert} is not a readable PEM certificate ({error}); pass make_ca's cert_path"
        ) from error
    try:
        key = serialization.load_pem_private_key(ca_key.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise ValueError(
            f"ca_key {ca_key} is not a readable, unencrypted PEM private key ({error}); pass make_ca's key_path"
        ) from error
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise ValueError(
            f"ca_cert {ca_cert} is not a CA certificate (basic constraints CA:true); pass make_ca's cert_path"
        )
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"ca_key {ca_key} is a {type(key).__name__}, expected an EC key from make_ca")
    cert_key = cert.public_key()
    if (
        not isinstance(cert_key, ec.EllipticCurvePublicKey)
        or key.public_key().public_numbers() != cert_key.public_numbers()
    ):
        raise ValueError(f"ca_key {ca_key} does not belong to ca_cert {ca_cert}; pass the pair make_ca returned")
    return cert, key


def _subject_alternative_names(hostnames: Sequence[str], ip_addresses: Sequence[str]) -> list[x509.GeneralName]:
    if isinstance(hostnames, str) or isinstance(ip_addresses, str):
        raise TypeError("hostnames and ip_addresses are sequences of strings, e.g. ('localhost',), not one string")
    if not hostnames and not ip_addresses:
        raise ValueError("hostnames and ip_addresses are both empty; give the name or address SuperNodes dial")
    names: list[x509.GeneralName] = []
    for host in hostnames:
        if not host or any(char.isspace() for char in host) or ":" in host or "/" in host:
            raise ValueError(
                f"hostnames entry {host!r} is not a DNS name (no port, scheme or spaces), e.g. 'link.example.org'"
            )
        names.append(x509.DNSName(host))
    for address in ip_addresses:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(address)))
        except ValueError as error:
            raise ValueError(
                f"ip_addresses entry {address!r} is not an IPv4 or IPv6 address, e.g. '127.0.0.1'"
            ) from error
    return names


def make_server_certificate(
    ca_cert: Path | str,
    ca_key: Path | str,
    out_dir: Path | str,
    hostnames: Sequence[str] = ("localhost",),
    ip_addresses: Sequence[str] = ("127.0.0.1",),
    days: int = 825,
) -> tuple[Path, Path]:
    """TLS certificate of the SuperLink, signed by the consortium CA, with subject alternative names.

    Clients check the address they dial against the subject alternative names (the common name is
    not consulted), so every DNS name and IP address SuperNodes and ``flwr`` use must be listed.
    Extensions: basic constraints CA:false, key usage digital signature, extended key usage TLS
    server authentication, authority and subject key identifiers.

    Parameters
    ----------
    ca_cert, ca_key : path
        The CA certificate and its private key, as returned by ``make_ca``.
    out_dir : path
        Directory for ``server.pem`` and ``server.key``; created (mode 0o700) if missing.
    hostnames : sequence of str, default ("localhost",)
        DNS names of the SuperLink, without port or scheme.
    ip_addresses : sequence of str, default ("127.0.0.1",)
        IPv4 or IPv6 addresses of the SuperLink.
    days : int, default 825
        Validity [days], counted from now (backdated 5 minutes); it is cut to the CA's end.

    Returns
    -------
    cert_path : Path
        PEM certificate, mode 0o644: ``flower-superlink --ssl-certfile``.
    key_path : Path
        PEM private key (PKCS#8, unencrypted), mode 0o600: ``flower-superlink --ssl-keyfile``.

    Raises
    ------
    FileExistsError
        If ``server.pem`` or ``server.key`` already exists in ``out_dir``.
    ValueError
        If the CA files are unreadable, not a CA or not a pair, if a host name or address is
        malformed, if both are empty, or if ``days`` is not a whole number >= 1.
    """
    _check_days(days, "days")
    names = _subject_alternative_names(hostnames, ip_addresses)
    ca_cert, ca_key = Path(ca_cert).expanduser(), Path(ca_key).expanduser()
    issuer, issuer_key = _load_ca(ca_cert, ca_key)
    out = _prepare_dir(out_dir)
    cert_path, key_path = out / SERVER_CERT_NAME, out / SERVER_KEY_NAME
    _check_absent([cert_path, key_path])

    key = ec.generate_private_key(CURVE)
    not_before, not_after = _validity(days)
    not_after = min(not_after, issuer.not_valid_after_utc)
    common_name = hostnames[0] if hostnames else ip_addresses[0]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
        .sign(issuer_key, hashes.SHA384())
    )
    _write(key_path, _private_pem(key), PRIVATE_MODE)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), PUBLIC_MODE)
    return cert_path, key_path


def make_node_keys(out_dir: Path | str, name: str) -> tuple[Path, Path]:
    """ECDSA P-384 key pair with which a site's SuperNode authenticates to the SuperLink.

    Same formats as ``ssh-keygen -t ecdsa -b 384 -N '' -C NAME``: the private key in OpenSSH
    format (``-----BEGIN OPENSSH PRIVATE KEY-----``, unencrypted), the only format
    ``flower-supernode --auth-supernode-private-key`` reads in Flower 1.42 (PKCS#8 or
    ``EC PRIVATE KEY`` PEM: it logs "Exit Code: 302" and stops with status 1); the public key as
    one OpenSSH line ``ecdsa-sha2-nistp384 AAAA... NAME``, the format ``flwr supernode register``
    takes (a PEM public key: "Exit Code: 500").

    Run this on the site's own machine; send only the public key to the consortium operator.

    Parameters
    ----------
    out_dir : path
        Directory for ``NAME.key`` and ``NAME.pub``; created (mode 0o700) if missing.
    name : str
        Site name, used for the file names and as the key comment: letters, digits, '.', '_'
        and '-', starting with a letter or digit (e.g. ``operator-01``).

    Returns
    -------
    private_key_path : Path
        OpenSSH private key, mode 0o600: ``flower-supernode --auth-supernode-private-key``.
    public_key_path : Path
        OpenSSH public key line, mode 0o644: ``flwr supernode register PUBLIC_KEY SUPERLINK``.

    Raises
    ------
    FileExistsError
        If ``NAME.key`` or ``NAME.pub`` already exists in ``out_dir``.
    ValueError
        If ``name`` is not a valid site name.
    """
    if not isinstance(name, str) or not NODE_NAME_PATTERN.fullmatch(name):
        raise ValueError(
            f"name {name!r} is not a valid site name: use letters, digits, '.', '_' and '-', "
            "starting with a letter or digit, e.g. 'operator-01'"
        )
    out = _prepare_dir(out_dir)
    private_path, public_path = out / f"{name}{NODE_PRIVATE_SUFFIX}", out / f"{name}{NODE_PUBLIC_SUFFIX}"
    _check_absent([private_path, public_path])

    key = ec.generate_private_key(CURVE)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    _write(private_path, private, PRIVATE_MODE)
    _write(public_path, public + f" {name}\n".encode(), PUBLIC_MODE)
    return private_path, public_path
