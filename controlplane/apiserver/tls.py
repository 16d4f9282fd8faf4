"""The cluster CA and the API server's serving certificate.

On first start the server makes a CA (kept in DATA/tls/ca.{crt,key}) and signs
a serving certificate for every name and address clients may use. The CA
never changes after that, so clients keep trusting it; the serving certificate
is re-issued when the set of names changes (e.g. a new --tls-san).
"""
import datetime
import hashlib
import ipaddress
import os
import pathlib
import socket

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

_VALIDITY = datetime.timedelta(days=3650)


def _write_private(path: pathlib.Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "coxswain"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _ensure_ca(tls_dir: pathlib.Path):
    crt, key_path = tls_dir / "ca.crt", tls_dir / "ca.key"
    if crt.exists() and key_path.exists():
        return (x509.load_pem_x509_certificate(crt.read_bytes()),
                serialization.load_pem_private_key(key_path.read_bytes(), None))
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(_name("coxswain-ca")).issuer_name(_name("coxswain-ca"))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    _write_private(key_path, _key_pem(key))
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _sans(names: list[str]) -> list[x509.GeneralName]:
    out = []
    for n in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            out.append(x509.DNSName(n))
    return out


def default_names(listen_host: str) -> list[str]:
    """Names a client may reach this host by: loopback, hostname, the listen address."""
    names = ["localhost", "127.0.0.1", socket.gethostname()]
    if listen_host not in ("", "0.0.0.0", "::"):
        names.append(listen_host)
    return names


def _issue(tls_dir: pathlib.Path, stem: str, *, common_name: str, names: list[str],
           usages: list[x509.ObjectIdentifier], ca_dir: pathlib.Path) -> None:
    """Write tls_dir/<stem>.crt and .key: a new key and a certificate the CA (in ca_dir) signs for it."""
    ca_cert, ca_key = _ensure_ca(ca_dir)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(_name(common_name)).issuer_name(ca_cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + _VALIDITY)
               .add_extension(x509.ExtendedKeyUsage(usages), critical=False))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(_sans(names)), critical=False)
    _write_private(tls_dir / f"{stem}.key", _key_pem(key))
    cert = builder.sign(ca_key, hashes.SHA256())
    (tls_dir / f"{stem}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def ensure_serving_cert(tls_dir: pathlib.Path, names: list[str]) -> tuple[bytes, bytes, bytes]:
    """(ca_pem, cert_pem, key_pem) for the server, issuing what is missing or stale."""
    crt, key_path = ensure_cert(tls_dir, "server", common_name="coxswain-apiserver", names=names,
                                usages=[x509.oid.ExtendedKeyUsageOID.SERVER_AUTH])
    return (tls_dir / "ca.crt").read_bytes(), crt, key_path


def ensure_cert(tls_dir: pathlib.Path, stem: str, *, common_name: str, names: list[str],
                usages: list[x509.ObjectIdentifier], ca_dir: pathlib.Path | None = None) -> tuple[bytes, bytes]:
    """(cert_pem, key_pem) of tls_dir/<stem>.crt, issued anew when missing or when `names` changed,
    by the CA in `ca_dir` (default: tls_dir)."""
    crt, key_path, names_file = (tls_dir / f"{stem}.crt", tls_dir / f"{stem}.key", tls_dir / f"{stem}.names")
    wanted = "\n".join(sorted(set(names)))
    if not (crt.exists() and key_path.exists()
            and (not names or (names_file.exists() and names_file.read_text() == wanted))):
        _issue(tls_dir, stem, common_name=common_name, names=sorted(set(names)), usages=usages,
               ca_dir=ca_dir or tls_dir)
        if names:
            names_file.write_text(wanted)
    return crt.read_bytes(), key_path.read_bytes()


def ensure_client_cert(tls_dir: pathlib.Path, common_name: str) -> tuple[bytes, bytes]:
    """(cert_pem, key_pem) of a client certificate the CA signed for `common_name`."""
    return ensure_cert(tls_dir, common_name.replace(":", "-"), common_name=common_name, names=[],
                       usages=[x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH])


def ca_hash(ca_pem: bytes) -> str:
    """SHA-256 of the CA certificate (DER), hex: what a join token pins."""
    der = x509.load_pem_x509_certificate(ca_pem).public_bytes(serialization.Encoding.DER)
    return hashlib.sha256(der).hexdigest()
