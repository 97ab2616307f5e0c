"""The cluster's PKI: a CA, the API server's serving certificate, an admin client certificate.

`ensure_pki(dir)` creates the files once and reuses them on every later start, so a kubeconfig
written yesterday still works today. Layout (kubeadm's names):

    ca.crt ca.key               kubernetes-ca, signs everything below
    apiserver.crt apiserver.key serving cert: 127.0.0.1, ::1, localhost, kubernetes, kubernetes.default...
    admin.crt admin.key         client cert CN=kubernetes-admin O=system:masters

Client identities follow kube-apiserver's x509 authenticator: CN is the user name, each O is a
group. Keys are EC P-256: a key takes well under a millisecond to make, RSA-2048 takes ~50 ms.
"""
from __future__ import annotations

import contextlib
import datetime
import fcntl
import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_COMMON_NAME = "kubernetes-ca"
SERVING_COMMON_NAME = "kube-apiserver"
ADMIN_USER = "kubernetes-admin"
ADMIN_GROUPS = ("system:masters",)

# Every name a client inside or beside the cluster may dial the API server by.
DEFAULT_SERVING_DNS = ("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                       "kubernetes.default.svc.cluster.local")
DEFAULT_SERVING_IPS = ("127.0.0.1", "::1")

CA_VALIDITY = datetime.timedelta(days=3650)
LEAF_VALIDITY = datetime.timedelta(days=365)
# Certificates start a little in the past so a peer whose clock lags still accepts them.
BACKDATE = datetime.timedelta(hours=1)


@dataclass(frozen=True)
class PKI:
    """Where the cluster's certificates live, their PEM bytes, and the CA key to issue more."""

    dir: Path
    ca_cert_path: Path
    ca_key_path: Path
    serving_cert_path: Path
    serving_key_path: Path
    admin_cert_path: Path
    admin_key_path: Path
    ca_cert_pem: bytes
    ca_key_pem: bytes
    serving_cert_pem: bytes
    serving_key_pem: bytes
    admin_cert_pem: bytes
    admin_key_pem: bytes

    def issue_client_cert(self, user: str, groups: Sequence[str] = (),
                          validity: datetime.timedelta = LEAF_VALIDITY) -> tuple[bytes, bytes]:
        """A client certificate for `user` in `groups`, signed by the CA: (cert_pem, key_pem).

        Components use these: ("system:kube-scheduler", ()), ("system:kube-controller-manager",
        ()), ("system:node:<name>", ("system:nodes",)). Nothing is written to disk.
        """
        ca_cert = x509.load_pem_x509_certificate(self.ca_cert_pem)
        ca_key = serialization.load_pem_private_key(self.ca_key_pem, password=None)
        return _issue_leaf(ca_cert, ca_key, _subject(user, groups), client=True, validity=validity)

    def issue_serving_cert(self, dns_names: Iterable[str] = (), ips: Iterable[str] = (),
                           common_name: str = SERVING_COMMON_NAME) -> tuple[bytes, bytes]:
        """A serving certificate for extra hosts (another API server replica, a test server)."""
        ca_cert = x509.load_pem_x509_certificate(self.ca_cert_pem)
        ca_key = serialization.load_pem_private_key(self.ca_key_pem, password=None)
        return _issue_leaf(ca_cert, ca_key, _subject(common_name, ()), client=False,
                           dns_names=tuple(dns_names), ips=tuple(ips), validity=LEAF_VALIDITY)


def ensure_pki(dir: str | os.PathLike[str], extra_dns: Iterable[str] = (),
               extra_ips: Iterable[str] = ()) -> PKI:
    """Create the PKI under `dir` if missing, reuse what exists, and return it.

    Files that already exist are never replaced; a missing leaf is issued by the existing CA.
    A lock file serializes two processes starting on the same directory at once. Blocking file
    I/O: call it before the event loop serves, or through `asyncio.to_thread`.
    """
    root = Path(dir)
    root.mkdir(parents=True, exist_ok=True)
    paths = {name: root / name for name in
             ("ca.crt", "ca.key", "apiserver.crt", "apiserver.key", "admin.crt", "admin.key")}
    with _locked(root / ".pki.lock"):
        if not (paths["ca.crt"].exists() and paths["ca.key"].exists()):
            cert_pem, key_pem = _issue_ca(CA_COMMON_NAME)
            write_file_atomic(paths["ca.key"], key_pem, 0o600)
            write_file_atomic(paths["ca.crt"], cert_pem, 0o644)
        ca_cert_pem = paths["ca.crt"].read_bytes()
        ca_key_pem = paths["ca.key"].read_bytes()
        ca_cert = x509.load_pem_x509_certificate(ca_cert_pem)
        ca_key = serialization.load_pem_private_key(ca_key_pem, password=None)

        if not (paths["apiserver.crt"].exists() and paths["apiserver.key"].exists()):
            cert_pem, key_pem = _issue_leaf(
                ca_cert, ca_key, _subject(SERVING_COMMON_NAME, ()), client=False,
                dns_names=DEFAULT_SERVING_DNS + tuple(extra_dns),
                ips=DEFAULT_SERVING_IPS + tuple(extra_ips), validity=LEAF_VALIDITY)
            write_file_atomic(paths["apiserver.key"], key_pem, 0o600)
            write_file_atomic(paths["apiserver.crt"], cert_pem, 0o644)

        if not (paths["admin.crt"].exists() and paths["admin.key"].exists()):
            cert_pem, key_pem = _issue_leaf(ca_cert, ca_key, _subject(ADMIN_USER, ADMIN_GROUPS),
                                            client=True, validity=LEAF_VALIDITY)
            write_file_atomic(paths["admin.key"], key_pem, 0o600)
            write_file_atomic(paths["admin.crt"], cert_pem, 0o644)

        return PKI(
            dir=root,
            ca_cert_path=paths["ca.crt"], ca_key_path=paths["ca.key"],
            serving_cert_path=paths["apiserver.crt"], serving_key_path=paths["apiserver.key"],
            admin_cert_path=paths["admin.crt"], admin_key_path=paths["admin.key"],
            ca_cert_pem=ca_cert_pem, ca_key_pem=ca_key_pem,
            serving_cert_pem=paths["apiserver.crt"].read_bytes(),
            serving_key_pem=paths["apiserver.key"].read_bytes(),
            admin_cert_pem=paths["admin.crt"].read_bytes(),
            admin_key_pem=paths["admin.key"].read_bytes(),
        )


# ---------------------------------------------------------------------------------------------
# TLS contexts


def serving_ssl_context(cert_file: str | os.PathLike[str], key_file: str | os.PathLike[str],
                        client_ca_file: str | os.PathLike[str] | None = None) -> ssl.SSLContext:
    """A server context from explicit files (kube-apiserver's --tls-cert-file / --client-ca-file).

    TLS 1.2 or newer. With a client CA, a client certificate is optional (token users send
    none) but, when sent, must chain to that CA or the handshake fails.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(os.fspath(cert_file), os.fspath(key_file))
    ctx.set_alpn_protocols(["http/1.1"])
    if client_ca_file is not None:
        ctx.load_verify_locations(cafile=os.fspath(client_ca_file))
        ctx.verify_mode = ssl.CERT_OPTIONAL
    return ctx


def server_ssl_context(pki: PKI, client_ca_path: str | os.PathLike[str] | None = None) -> ssl.SSLContext:
    """The API server's context: serving cert of `pki`, client certs verified against
    `client_ca_path` (default: the PKI's own CA)."""
    return serving_ssl_context(pki.serving_cert_path, pki.serving_key_path,
                               client_ca_path if client_ca_path is not None else pki.ca_cert_path)


def client_ssl_context(ca_pem: bytes | None, cert_pem: bytes | None = None,
                       key_pem: bytes | None = None) -> ssl.SSLContext:
    """A client context trusting `ca_pem` and presenting the client cert when given.

    Python's ssl loads a key pair only from files, so the PEMs pass through a private temporary
    directory that is removed before returning.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_pem is not None:
        ctx.load_verify_locations(cadata=ca_pem.decode("ascii"))
    else:
        ctx.load_default_certs()
    if cert_pem is not None and key_pem is not None:
        with tempfile.TemporaryDirectory(prefix="kplane-tls-") as tmp:
            cert_path = Path(tmp) / "client.crt"
            key_path = Path(tmp) / "client.key"
            write_file_atomic(cert_path, cert_pem, 0o600)
            write_file_atomic(key_path, key_pem, 0o600)
            ctx.load_cert_chain(str(cert_path), str(key_path))
    return ctx


# ---------------------------------------------------------------------------------------------
# Issuing


def _subject(common_name: str, organizations: Sequence[str]) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _issue_ca(common_name: str) -> tuple[bytes, bytes]:
    key = _new_key()
    name = _subject(common_name, ())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE).not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def _issue_leaf(ca_cert: x509.Certificate, ca_key, subject: x509.Name, *, client: bool,
                dns_names: Sequence[str] = (), ips: Sequence[str] = (),
                validity: datetime.timedelta) -> tuple[bytes, bytes]:
    key = _new_key()
    now = _now()
    usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE).not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),
                       critical=False)
    )
    sans: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


# ---------------------------------------------------------------------------------------------
# Files


def write_file_atomic(path: Path, data: bytes, mode: int) -> None:
    """Write via a temporary file and rename, so a reader never sees half a key."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    with open(lock_path, "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
