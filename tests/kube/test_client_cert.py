"""Client-certificate auth (mutual TLS) from a kubeconfig, against a tiny HTTPS server that demands one."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kstor.errors import KstorError
from kstor.kube.connect import connect


def _cert(
    subject: str,
    *,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
    ca: bool = False,
    server: bool = False,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer[0].subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
        builder = builder.add_extension(san, critical=False)
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256()), key


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture
async def mtls(tmp_path: Path) -> AsyncIterator[tuple[str, bytes, bytes, bytes]]:
    ca = _cert("test-ca", ca=True)
    server_cert, server_key = _cert("127.0.0.1", issuer=ca, server=True)
    client_cert, client_key = _cert("kstor-user", issuer=ca)
    (tmp_path / "srv.crt").write_bytes(_pem(server_cert))
    (tmp_path / "srv.key").write_bytes(_key_pem(server_key))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(tmp_path / "srv.crt", tmp_path / "srv.key")
    ctx.load_verify_locations(cadata=_pem(ca[0]).decode())
    ctx.verify_mode = ssl.CERT_REQUIRED  # no client certificate, no handshake

    async def version(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peercert")  # type: ignore[union-attr]
        return web.json_response({"major": "1", "user": dict(x[0] for x in peer["subject"])["commonName"]})

    app = web.Application()
    app.router.add_get("/version", version)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ctx)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"https://127.0.0.1:{port}", _pem(ca[0]), _pem(client_cert), _key_pem(client_key)
    await runner.cleanup()


def kubeconfig(path: Path, server: str, ca: bytes, user: dict) -> Path:
    b64 = base64.b64encode(ca).decode()
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "m",
                "clusters": [{"name": "m", "cluster": {"server": server, "certificate-authority-data": b64}}],
                "users": [{"name": "m", "user": user}],
                "contexts": [{"name": "m", "context": {"cluster": "m", "user": "m"}}],
            }
        )
    )
    return path


async def test_client_certificate_from_kubeconfig(mtls, tmp_path: Path) -> None:
    server, ca, cert, key = mtls
    user = {
        "client-certificate-data": base64.b64encode(cert).decode(),
        "client-key-data": base64.b64encode(key).decode(),
    }
    conn = await connect(kubeconfig(tmp_path / "kc", server, ca, user))
    try:
        assert (await conn.transport.request("GET", "/version"))["user"] == "kstor-user"
    finally:
        await conn.close()


async def test_missing_client_certificate_is_one_line(mtls, tmp_path: Path) -> None:
    server, ca, _, _ = mtls
    with pytest.raises(KstorError) as info:
        await connect(kubeconfig(tmp_path / "kc", server, ca, {"token": "x"}))
    text = str(info.value)
    assert "\n" not in text and server in text, text


async def test_wrong_certificate_authority_is_a_tls_error(mtls, tmp_path: Path) -> None:
    server, _, cert, key = mtls
    other_ca = _pem(_cert("other-ca", ca=True)[0])
    user = {
        "client-certificate-data": base64.b64encode(cert).decode(),
        "client-key-data": base64.b64encode(key).decode(),
    }
    with pytest.raises(KstorError, match=r"^TLS error talking to https://127\.0\.0\.1:\d+: "):
        await connect(kubeconfig(tmp_path / "kc", server, other_ca, user))
