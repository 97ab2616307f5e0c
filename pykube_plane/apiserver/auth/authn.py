"""Authentication: who sent this request, as kube-apiserver decides it.

Two authenticators, tried in kube-apiserver's order, first success wins:

1. x509 client certificates (--client-ca-file): the TLS layer verified the chain; the
   certificate's CN is the user name and each O is a group.
2. Static bearer tokens (--token-auth-file): a CSV file, one user per line,
   ``token,user,uid,"group1,group2"`` (the groups column is optional).

Every authenticated user also belongs to ``system:authenticated``. Anonymous requests are not
accepted: `authenticate` returns None and the server answers 401 (`unauthorized_status`).
"""
from __future__ import annotations

import csv
import datetime
import io
import os
import time
from typing import Any, Mapping

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pykube_plane.api.users import UserInfo

# Well-known users and groups (k8s.io/apiserver/pkg/authentication/user).
SYSTEM_PRIVILEGED_GROUP = "system:masters"
ALL_AUTHENTICATED = "system:authenticated"
ALL_UNAUTHENTICATED = "system:unauthenticated"
NODES_GROUP = "system:nodes"
NODE_USER_PREFIX = "system:node:"
SERVICE_ACCOUNT_USER_PREFIX = "system:serviceaccount:"
SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts"
KUBE_SCHEDULER = "system:kube-scheduler"
KUBE_CONTROLLER_MANAGER = "system:kube-controller-manager"
KUBE_PROXY = "system:kube-proxy"

# Verified DER certificates remembered per authenticator: an ECDSA check costs ~200 us, and a
# keep-alive client presents the same certificate on every request.
CERT_CACHE_SIZE = 1024


def service_account_user(namespace: str, name: str) -> UserInfo:
    """The identity of a service account, as its token authenticator would produce it."""
    return UserInfo(f"{SERVICE_ACCOUNT_USER_PREFIX}{namespace}:{name}",
                    (SERVICE_ACCOUNTS_GROUP, f"{SERVICE_ACCOUNTS_GROUP}:{namespace}", ALL_AUTHENTICATED))


class TokenFileError(ValueError):
    """The token file cannot be used (kube-apiserver refuses to start on the same errors)."""


def parse_token_file(text: str, source: str = "<token file>") -> dict[str, UserInfo]:
    """Parse --token-auth-file content into token -> UserInfo.

    Lines with fewer than 3 columns make the whole file invalid; a line with an empty token is
    skipped; a later duplicate token replaces an earlier one (kube-apiserver warns, then does so).
    """
    tokens: dict[str, UserInfo] = {}
    try:
        records = list(csv.reader(io.StringIO(text), strict=True))
    except csv.Error as err:
        raise TokenFileError(f"token file '{source}': {err}") from err
    for record in records:
        if not record:
            continue  # blank line
        if len(record) < 3:
            raise TokenFileError(f"token file '{source}' must have at least 3 columns "
                                 f"(token, user name, user uid), found {len(record)}")
        token, name, uid = record[0], record[1], record[2]
        if not token:
            continue
        groups = tuple(g for g in record[3].split(",") if g) if len(record) >= 4 else ()
        tokens[token] = UserInfo(name, groups, uid)
    return tokens


class Authenticator:
    """Decides the UserInfo of a request from its headers and its TLS peer certificate."""

    def __init__(self, token_file: str | os.PathLike[str] | None = None,
                 client_ca_file: str | os.PathLike[str] | None = None,
                 tokens: Mapping[str, UserInfo] | None = None) -> None:
        self._tokens: dict[str, UserInfo] = {}
        if token_file is not None:
            path = os.fspath(token_file)
            with open(path, encoding="utf-8", newline="") as f:
                self._tokens.update(parse_token_file(f.read(), path))
        if tokens:
            self._tokens.update(tokens)
        self._client_cas: list[x509.Certificate] = []
        self._client_ca_subjects: list[frozenset[tuple[str, str]]] = []
        if client_ca_file is not None:
            with open(os.fspath(client_ca_file), "rb") as f:
                self._client_cas = x509.load_pem_x509_certificates(f.read())
            self._client_ca_subjects = [_name_pairs(ca.subject) for ca in self._client_cas]
        self._verified: dict[bytes, tuple[UserInfo, float]] = {}  # DER -> (user, not_after epoch)

    def add_token(self, token: str, user: UserInfo) -> None:
        """Register a bearer token at run time (tests, `kplane up` credentials)."""
        self._tokens[token] = user

    def authenticate(self, headers: Mapping[str, str], peer_cert: Any = None) -> UserInfo | None:
        """The request's user, or None when it carries no valid credential (→ 401).

        `headers` is case-insensitive (aiohttp's CIMultiDict). `peer_cert` is
        `ssl.SSLObject.getpeercert()` (a dict, chain already verified by TLS against the
        client CA), or its DER form `getpeercert(binary_form=True)` (verified here), or None.
        """
        if peer_cert and self._client_cas:
            user = self._from_certificate(peer_cert)
            if user is not None:
                return _with_authenticated(user)
        token = bearer_token(headers)
        if token:
            user = self._tokens.get(token)
            if user is not None:
                return _with_authenticated(user)
        return None

    # -- x509 ------------------------------------------------------------------------------

    def _from_certificate(self, peer_cert: Any) -> UserInfo | None:
        if isinstance(peer_cert, (bytes, bytearray, memoryview)):
            der = bytes(peer_cert)
            cached = self._verified.get(der)
            if cached is not None and time.time() <= cached[1]:
                return cached[0]
            return self._from_der(der)
        if isinstance(peer_cert, dict):
            return self._from_ssl_dict(peer_cert)
        return None

    def _from_ssl_dict(self, cert: dict[str, Any]) -> UserInfo | None:
        # The handshake verified the chain; still insist the issuer is one of *our* client CAs,
        # in case the TLS context was built with a different trust bundle.
        issuer = frozenset(pair for rdn in cert.get("issuer", ()) for pair in rdn)
        if issuer not in self._client_ca_subjects:
            return None
        common_names: list[str] = []
        organizations: list[str] = []
        for rdn in cert.get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    common_names.append(value)
                elif key == "organizationName":
                    organizations.append(value)
        if not common_names or not common_names[0]:
            return None
        return UserInfo(common_names[0], tuple(organizations))

    def _from_der(self, der: bytes) -> UserInfo | None:
        try:
            cert = x509.load_der_x509_certificate(der)
        except ValueError:
            return None
        now = datetime.datetime.fromtimestamp(time.time(), datetime.timezone.utc)
        if not (cert.not_valid_before_utc <= now <= cert.not_valid_after_utc):
            return None
        if not any(_issued_by(cert, ca) for ca in self._client_cas):
            return None
        try:
            usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            if ExtendedKeyUsageOID.CLIENT_AUTH not in usages and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in usages:
                return None
        except x509.ExtensionNotFound:
            pass
        names = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        if not names or not names[0]:
            return None
        orgs = tuple(str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME))
        user = UserInfo(str(names[0]), orgs)
        if len(self._verified) >= CERT_CACHE_SIZE:
            del self._verified[next(iter(self._verified))]  # oldest first
        self._verified[der] = (user, cert.not_valid_after_utc.timestamp())
        return user


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive)."""
    value = headers.get("Authorization") or headers.get("authorization")
    if not value:
        return None
    parts = value.strip().split(" ", 2)
    if len(parts) < 2 or parts[0].lower() != "bearer":
        return None
    return parts[1] or None  # "Bearer  x" (two spaces) has an empty token, as in k8s


def unauthorized_status() -> dict[str, Any]:
    """The body kube-apiserver sends with 401."""
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


def _with_authenticated(user: UserInfo) -> UserInfo:
    if ALL_AUTHENTICATED in user.groups:
        return user
    return UserInfo(user.name, user.groups + (ALL_AUTHENTICATED,), user.uid)


def _name_pairs(name: x509.Name) -> frozenset[tuple[str, str]]:
    # Same spelling as ssl.getpeercert(): OpenSSL long names ("commonName", "organizationName").
    return frozenset((attr.oid._name, str(attr.value)) for attr in name)


def _issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
