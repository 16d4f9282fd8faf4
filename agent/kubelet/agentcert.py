"""Makes the agent's self-signed serving certificate: `python -m agent.kubelet.agentcert DIR`.

A process of its own, run once, when DIR has no certificate yet
(server.ensure_certificate): the cryptography package it needs would stay
resident in the agent for its whole life, ~8 MB for one signature. So it is
imported in `make` only: the agent imports this module for the file names.
"""
import datetime
import sys
from pathlib import Path

from controlplane.api.wellknown import AGENT_TLS_NAME

CERT_VALIDITY = datetime.timedelta(days=3650)
CERT_FILE, KEY_FILE = "agent.crt", "agent.key"


def make(directory: Path) -> None:
    """Write KEY_FILE (mode 0600) and CERT_FILE: an EC P-256 key, and a certificate for AGENT_TLS_NAME."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, AGENT_TLS_NAME)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + CERT_VALIDITY)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(AGENT_TLS_NAME)]), critical=False)
            .sign(key, hashes.SHA256()))
    key_path = directory / KEY_FILE
    key_path.touch(mode=0o600)
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    (directory / CERT_FILE).write_bytes(cert.public_bytes(serialization.Encoding.PEM))


if __name__ == "__main__":
    make(Path(sys.argv[1]))
