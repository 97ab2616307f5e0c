"""ensure_pki: files created once and reused, certificates shaped as Kubernetes clients expect."""
from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pykube_plane.apiserver.auth.pki import PKI, ensure_pki


def _cert(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


def _names(cert: x509.Certificate, oid) -> list[str]:
    return [a.value for a in cert.subject.get_attributes_for_oid(oid)]


def test_creates_all_files_with_private_keys_unreadable_by_others(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path / "pki")
    for name in ("ca.crt", "ca.key", "apiserver.crt", "apiserver.key", "admin.crt", "admin.key"):
        assert (tmp_path / "pki" / name).is_file(), name
    for key in (pki.ca_key_path, pki.serving_key_path, pki.admin_key_path):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    assert pki.ca_cert_pem == pki.ca_cert_path.read_bytes()


def test_second_call_reuses_everything(tmp_path: Path) -> None:
    first = ensure_pki(tmp_path)
    second = ensure_pki(tmp_path)
    assert first == second


def test_missing_leaf_is_reissued_by_the_existing_ca(tmp_path: Path) -> None:
    first = ensure_pki(tmp_path)
    first.admin_cert_path.unlink()
    second = ensure_pki(tmp_path)
    assert second.ca_cert_pem == first.ca_cert_pem
    assert second.admin_cert_pem != first.admin_cert_pem
    _cert(second.admin_cert_pem).verify_directly_issued_by(_cert(first.ca_cert_pem))


def test_ca_is_kubernetes_ca_and_signs_every_leaf(pki: PKI) -> None:
    ca = _cert(pki.ca_cert_pem)
    assert _names(ca, NameOID.COMMON_NAME) == ["kubernetes-ca"]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign is True
    assert isinstance(ca.public_key(), ec.EllipticCurvePublicKey)
    assert ca.public_key().curve.name == "secp256r1"
    for pem in (pki.serving_cert_pem, pki.admin_cert_pem):
        _cert(pem).verify_directly_issued_by(ca)


def test_serving_cert_names_every_address_of_the_api_server(pki: PKI) -> None:
    cert = _cert(pki.serving_cert_pem)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    dns = set(sans.get_values_for_type(x509.DNSName))
    ips = set(sans.get_values_for_type(x509.IPAddress))
    assert {"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"} <= dns
    assert {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")} <= ips
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.SERVER_AUTH]


def test_extra_hosts_join_the_serving_cert(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path, extra_dns=["apiserver.example"], extra_ips=["10.0.0.1"])
    sans = _cert(pki.serving_cert_pem).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "apiserver.example" in sans.get_values_for_type(x509.DNSName)
    assert ipaddress.ip_address("10.0.0.1") in sans.get_values_for_type(x509.IPAddress)


def test_admin_is_kubernetes_admin_in_system_masters(pki: PKI) -> None:
    cert = _cert(pki.admin_cert_pem)
    assert _names(cert, NameOID.COMMON_NAME) == ["kubernetes-admin"]
    assert _names(cert, NameOID.ORGANIZATION_NAME) == ["system:masters"]
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.CLIENT_AUTH]


def test_issued_client_cert_carries_user_and_groups(pki: PKI) -> None:
    cert_pem, key_pem = pki.issue_client_cert("system:node:n1", ["system:nodes"])
    cert = _cert(cert_pem)
    assert _names(cert, NameOID.COMMON_NAME) == ["system:node:n1"]
    assert _names(cert, NameOID.ORGANIZATION_NAME) == ["system:nodes"]
    cert.verify_directly_issued_by(_cert(pki.ca_cert_pem))
    assert b"PRIVATE KEY" in key_pem
    # Each call is a fresh key pair.
    again, _ = pki.issue_client_cert("system:node:n1", ["system:nodes"])
    assert _cert(again).public_key() != cert.public_key()


def test_client_cert_without_groups_has_no_organization(pki: PKI) -> None:
    cert_pem, _ = pki.issue_client_cert("system:kube-scheduler")
    assert _names(_cert(cert_pem), NameOID.ORGANIZATION_NAME) == []
