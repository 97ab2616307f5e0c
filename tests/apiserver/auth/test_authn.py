"""Authenticator: kube-apiserver's token file format and x509 CN/O mapping."""
from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from multidict import CIMultiDict

from pykube_plane.apiserver.auth.authn import (
    Authenticator,
    TokenFileError,
    UserInfo,
    bearer_token,
    parse_token_file,
    service_account_user,
    unauthorized_status,
)
from pykube_plane.apiserver.auth.pki import PKI, ensure_pki

from .conftest import write

AUTH = "system:authenticated"


def bearer(token: str) -> CIMultiDict:
    return CIMultiDict({"Authorization": f"Bearer {token}"})


# -- token file ----------------------------------------------------------------------------


def test_token_file_columns_map_to_user_uid_and_groups() -> None:
    tokens = parse_token_file(
        'abc123,alice,uid-1,"devs,ops"\n'
        "def456,bob,uid-2\n"
        "\n"
        'ghi789,carol,uid-3,"single"\n')
    assert tokens == {
        "abc123": UserInfo("alice", ("devs", "ops"), "uid-1"),
        "def456": UserInfo("bob", (), "uid-2"),
        "ghi789": UserInfo("carol", ("single",), "uid-3"),
    }


def test_token_file_skips_empty_tokens_and_keeps_the_last_duplicate() -> None:
    tokens = parse_token_file(",nobody,uid-0\ntok,first,1\ntok,second,2\n")
    assert tokens == {"tok": UserInfo("second", (), "2")}


def test_token_file_with_too_few_columns_is_refused() -> None:
    with pytest.raises(TokenFileError, match="must have at least 3 columns .* found 2"):
        parse_token_file("tok,alice\n", "tokens.csv")


def test_token_file_groups_column_ignores_empty_entries() -> None:
    assert parse_token_file('t,u,1,""\n')["t"].groups == ()
    assert parse_token_file('t,u,1,"a,,b"\n')["t"].groups == ("a", "b")


@pytest.mark.parametrize("header, expected", [
    ("Bearer abc", "abc"),
    ("bearer abc", "abc"),
    ("BEARER abc", "abc"),
    ("  Bearer abc  ", "abc"),
    ("Bearer  abc", None),       # k8s: two spaces leave an empty token
    ("Bearer", None),
    ("Basic abc", None),
    ("", None),
])
def test_bearer_header_parsing(header: str, expected: str | None) -> None:
    assert bearer_token(CIMultiDict({"Authorization": header})) == expected


def test_token_authentication_from_file(tmp_path: Path) -> None:
    token_file = write(tmp_path / "tokens.csv", b'secret-1,alice,42,"devs"\n')
    auth = Authenticator(token_file=token_file)
    assert auth.authenticate(bearer("secret-1")) == UserInfo("alice", ("devs", AUTH), "42")
    assert auth.authenticate(CIMultiDict({"authorization": "bearer secret-1"})).name == "alice"
    assert auth.authenticate(bearer("wrong")) is None
    assert auth.authenticate(CIMultiDict()) is None


def test_authenticated_group_is_not_duplicated() -> None:
    auth = Authenticator(tokens={"t": UserInfo("u", (AUTH, "g"))})
    assert auth.authenticate(bearer("t")).groups == (AUTH, "g")


def test_add_token_at_run_time() -> None:
    auth = Authenticator()
    assert auth.authenticate(bearer("late")) is None
    auth.add_token("late", UserInfo("latecomer"))
    assert auth.authenticate(bearer("late")) == UserInfo("latecomer", (AUTH,))


def test_unauthorized_status_is_kubernetes_401() -> None:
    status = unauthorized_status()
    assert (status["code"], status["reason"], status["message"]) == (401, "Unauthorized", "Unauthorized")


def test_service_account_identity() -> None:
    user = service_account_user("kube-system", "replicaset-controller")
    assert user.name == "system:serviceaccount:kube-system:replicaset-controller"
    assert "system:serviceaccounts:kube-system" in user.groups


# -- x509 ----------------------------------------------------------------------------------


def ssl_dict(cert_pem: bytes) -> dict:
    """The dict ssl.getpeercert() returns for a verified peer (OpenSSL long attribute names)."""
    cert = x509.load_pem_x509_certificate(cert_pem)

    def rdns(name: x509.Name) -> tuple:
        return tuple(tuple((attr.oid._name, attr.value) for attr in rdn) for rdn in name.rdns)

    return {"subject": rdns(cert.subject), "issuer": rdns(cert.issuer), "version": 3}


def der(cert_pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(cert_pem).public_bytes(serialization.Encoding.DER)


def test_client_certificate_cn_is_user_and_o_are_groups(pki: PKI) -> None:
    auth = Authenticator(client_ca_file=pki.ca_cert_path)
    cert_pem, _ = pki.issue_client_cert("system:node:n7", ["system:nodes", "team-a"])
    expected = UserInfo("system:node:n7", ("system:nodes", "team-a", AUTH))
    assert auth.authenticate(CIMultiDict(), ssl_dict(cert_pem)) == expected
    assert auth.authenticate(CIMultiDict(), der(cert_pem)) == expected


def test_admin_certificate_is_a_system_master(pki: PKI) -> None:
    auth = Authenticator(client_ca_file=pki.ca_cert_path)
    user = auth.authenticate(CIMultiDict(), der(pki.admin_cert_pem))
    assert user == UserInfo("kubernetes-admin", ("system:masters", AUTH))


def test_certificate_wins_over_a_bad_token(pki: PKI) -> None:
    auth = Authenticator(client_ca_file=pki.ca_cert_path)
    cert_pem, _ = pki.issue_client_cert("carol")
    assert auth.authenticate(bearer("nonsense"), ssl_dict(cert_pem)).name == "carol"


def test_certificates_are_ignored_without_a_client_ca(pki: PKI) -> None:
    auth = Authenticator(tokens={"t": UserInfo("tok-user")})
    cert_pem, _ = pki.issue_client_cert("carol")
    assert auth.authenticate(CIMultiDict(), ssl_dict(cert_pem)) is None
    assert auth.authenticate(bearer("t"), ssl_dict(cert_pem)).name == "tok-user"


def test_certificate_from_another_ca_is_refused(pki: PKI, tmp_path: Path) -> None:
    other = ensure_pki(tmp_path / "other")
    auth = Authenticator(client_ca_file=pki.ca_cert_path)
    cert_pem, _ = other.issue_client_cert("mallory", ["system:masters"])
    # Both CAs are named kubernetes-ca: only the signature tells them apart. (For the ssl dict
    # form the TLS handshake has already refused such a chain; see test_tls.py.)
    assert x509.load_pem_x509_certificate(cert_pem).issuer == x509.load_pem_x509_certificate(pki.ca_cert_pem).subject
    assert auth.authenticate(CIMultiDict(), der(cert_pem)) is None


def test_ssl_dict_from_an_issuer_that_is_not_our_ca_is_refused(pki: PKI) -> None:
    auth = Authenticator(client_ca_file=pki.ca_cert_path)
    forged = {"subject": ((("commonName", "mallory"),),), "issuer": ((("commonName", "evil-ca"),),)}
    assert auth.authenticate(CIMultiDict(), forged) is None


def test_expired_and_server_only_certificates_are_refused(pki: PKI) -> None:
    auth = Authenticator(client_ca_file=pki.ca_cert_path)
    expired_pem, _ = pki.issue_client_cert("old", validity=-datetime.timedelta(minutes=30))
    assert auth.authenticate(CIMultiDict(), der(expired_pem)) is None
    # The serving certificate is for serverAuth only: not a client identity.
    assert auth.authenticate(CIMultiDict(), der(pki.serving_cert_pem)) is None


def test_verified_certificates_are_remembered_until_they_expire(pki: PKI, monkeypatch: pytest.MonkeyPatch) -> None:
    from pykube_plane.apiserver.auth import authn
    monkeypatch.setattr(authn, "CERT_CACHE_SIZE", 2)
    auth = Authenticator(client_ca_file=pki.ca_cert_path)
    certs = [der(pki.issue_client_cert(f"user-{i}")[0]) for i in range(3)]
    for i, cert in enumerate(certs):
        assert auth.authenticate(CIMultiDict(), cert).name == f"user-{i}"
    assert list(auth._verified) == certs[1:]          # bounded: the oldest went first
    assert auth.authenticate(CIMultiDict(), certs[0]).name == "user-0"   # verified again
    a_year_and_a_day = 366 * 24 * 3600
    real_time = authn.time.time
    monkeypatch.setattr(authn.time, "time", lambda: real_time() + a_year_and_a_day)
    assert auth.authenticate(CIMultiDict(), certs[2]) is None           # cached, but expired


def test_certificate_without_common_name_is_refused(pki: PKI) -> None:
    auth = Authenticator(client_ca_file=pki.ca_cert_path)
    no_cn = {"subject": ((("organizationName", "system:masters"),),),
             "issuer": ((("commonName", "kubernetes-ca"),),)}
    assert auth.authenticate(CIMultiDict(), no_cn) is None
