"""A small certificate authority for a region: the server and one client
certificate per car, and a revocation list the server checks on every request.

Layout of the PKI folder:
    ca.pem, ca.key           the region's CA (the key never leaves this folder)
    server.pem, server.key   the regional server's certificate (SANs given at init)
    cars/<terminal>.pem/.key one client certificate per car (the newest issued)
    cars/<terminal>.serials  every serial ever issued to the car, one hex serial a line
    crl.pem                  revoked car certificates, re-signed on every revocation
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway.errors import AlprError

logger = logging.getLogger(__name__)

TERMINAL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class PkiError(AlprError):
    """The PKI folder is missing a file, or a request to it is invalid."""


@dataclass(frozen=True)
class CarBundle:
    terminal: str
    cert: Path
    key: Path
    ca: Path
    server_pin_sha256: str
    serial: int


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _name(common_name: str, org: str = "ALPR region") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _load_ca(folder: Path):
    cert_path, key_path = folder / "ca.pem", folder / "ca.key"
    if not cert_path.exists() or not key_path.exists():
        raise PkiError(f"no CA in {folder}: run `alpr regional init --dir {folder.parent}` first")
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    return cert, key


def cert_sha256(pem_path: Path) -> str:
    """SHA-256 of the certificate's DER form: what a car pins."""
    cert = x509.load_pem_x509_certificate(Path(pem_path).read_bytes())
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def init_ca(folder: Path, hosts: list[str], days: int = 3650) -> Path:
    """Create the CA (once) and a server certificate for `hosts` (names or IPs)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "ca.pem").exists():
        key = ec.generate_private_key(ec.SECP256R1())
        name = _name("ALPR regional CA")
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - dt.timedelta(minutes=5))
            .not_valid_after(_now() + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        _write_private(folder / "ca.key", _key_pem(key))
        (folder / "ca.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_crl(folder, [])
    issue_server(folder, hosts)
    return folder


def issue_server(folder: Path, hosts: list[str], days: int = 825) -> Path:
    ca_cert, ca_key = _load_ca(folder)
    if not hosts:
        raise PkiError("give at least one host name or IP address for the server certificate")
    sans: list[x509.GeneralName] = []
    for host in hosts:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(hosts[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(minutes=5))
        .not_valid_after(_now() + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(folder / "server.key", _key_pem(key))
    (folder / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return folder / "server.pem"


def issue_car(folder: Path, terminal: str, days: int = 730) -> CarBundle:
    """A client certificate for one car; CN = the car's terminal id."""
    folder = Path(folder)
    if not TERMINAL_RE.match(terminal):
        raise PkiError(f"terminal id {terminal!r}: use letters, digits, '.', '_' or '-' (max 64)")
    ca_cert, ca_key = _load_ca(folder)
    key = ec.generate_private_key(ec.SECP256R1())
    serial = x509.random_serial_number()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(terminal, "ALPR car"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(_now() - dt.timedelta(minutes=5))
        .not_valid_after(_now() + dt.timedelta(days=days))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    cars = folder / "cars"
    # Recorded before the files are overwritten: a car may still hold an older
    # certificate (installed, then reissued), and revoking must reach it too.
    _record_serial(cars, terminal, serial)
    _write_private(cars / f"{terminal}.key", _key_pem(key))
    (cars / f"{terminal}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    logger.info("issued a client certificate for car %s (serial %x)", terminal, serial)
    return CarBundle(
        terminal=terminal,
        cert=cars / f"{terminal}.pem",
        key=cars / f"{terminal}.key",
        ca=folder / "ca.pem",
        server_pin_sha256=cert_sha256(folder / "server.pem"),
        serial=serial,
    )


def revoked_serials(folder: Path) -> set[int]:
    path = Path(folder) / "crl.pem"
    if not path.exists():
        return set()
    crl = x509.load_pem_x509_crl(path.read_bytes())
    return {entry.serial_number for entry in crl}


def _write_crl(folder: Path, serials: list[int]) -> None:
    ca_cert, ca_key = _load_ca(folder)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(_now())
        .next_update(_now() + dt.timedelta(days=30))
    )
    for serial in sorted(set(serials)):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(_now())
            .build()
        )
    crl = builder.sign(ca_key, hashes.SHA256())
    tmp = Path(folder) / ".crl.pem.tmp"
    tmp.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    os.replace(tmp, Path(folder) / "crl.pem")


def _record_serial(cars: Path, terminal: str, serial: int) -> None:
    cars.mkdir(parents=True, exist_ok=True)
    with open(cars / f"{terminal}.serials", "a", encoding="ascii") as fh:
        fh.write(f"{serial:x}\n")
        fh.flush()
        os.fsync(fh.fileno())


def issued_serials(folder: Path, terminal: str) -> list[int]:
    """Every serial issued to the car: its record, and the current certificate's (a
    certificate issued before the record was kept is in no record)."""
    cars = Path(folder) / "cars"
    serials: list[int] = []
    record = cars / f"{terminal}.serials"
    if record.exists():
        for line in record.read_text(encoding="ascii").split():
            try:
                serials.append(int(line, 16))
            except ValueError:
                raise PkiError(f"{record}: {line!r} is not a hex serial; fix the line (the "
                               "record lists every certificate issued to the car)") from None
    cert_path = cars / f"{terminal}.pem"
    if cert_path.exists():
        serials.append(x509.load_pem_x509_certificate(cert_path.read_bytes()).serial_number)
    return sorted(set(serials))


def revoke_car(folder: Path, terminal: str) -> list[int]:
    """Revoke every certificate ever issued to the car; returns their serials.

    Revoking only the newest one left a car that was reissued still able to upload
    with the certificate installed before."""
    folder = Path(folder)
    serials = issued_serials(folder, terminal)
    if not serials:
        raise PkiError(f"no certificate for car {terminal!r} in {folder / 'cars'}")
    _write_crl(folder, [*revoked_serials(folder), *serials])
    logger.warning("revoked %d certificate(s) of car %s (serials %s)", len(serials), terminal,
                   ", ".join(f"{s:x}" for s in serials))
    return serials
