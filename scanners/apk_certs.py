"""The signing-certificate reader of the parse child: every certificate of the
v1, v2, v3 and v3.1 signature schemes, deduplicated by its DER SHA-256.

Runs in the parse child only (:mod:`scanners._apk_worker`).
"""

from __future__ import annotations

import hashlib
import importlib
import re
from datetime import UTC, datetime
from typing import Any

from scanners.apk_fact_types import Certificate


def _cert_facts(der: bytes, schemes: tuple[str, ...]) -> Certificate:
    sha = hashlib.sha256(der).hexdigest()
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa

        cert = x509.load_der_x509_certificate(der)
        fields = tuple((a.rfc4514_attribute_name, str(a.value)) for a in cert.subject)
        key = cert.public_key()
        if isinstance(key, rsa.RSAPublicKey):
            algo = f"RSA-{key.key_size}"
        elif isinstance(key, ec.EllipticCurvePublicKey):
            algo = f"EC-{key.curve.name}"
        elif isinstance(key, dsa.DSAPublicKey):
            algo = f"DSA-{key.key_size}"
        else:
            algo = type(key).__name__
        return Certificate(
            sha256=sha,
            schemes=schemes,
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
            not_before=cert.not_valid_before_utc.isoformat(),
            not_after=cert.not_valid_after_utc.isoformat(),
            serial=format(cert.serial_number, "x"),
            is_debug=("CN", "Android Debug") in fields,
            self_signed=cert.subject == cert.issuer,
            subject_fields=fields,
            key_algorithm=algo,
        )
    except Exception as exc:
        first_error = f"{type(exc).__name__}: {exc}"[:200]
    try:
        asn1_x509: Any = importlib.import_module("asn1crypto.x509")
        c = asn1_x509.Certificate.load(der)
        subject = c.subject.native
        fields2 = tuple((str(k), str(v)) for k, v in subject.items())

        def _iso(t: Any) -> str:
            if isinstance(t, datetime):
                return t.astimezone(UTC).isoformat()
            return str(t)

        validity = c["tbs_certificate"]["validity"]
        return Certificate(
            sha256=sha,
            schemes=schemes,
            subject=c.subject.human_friendly,
            issuer=c.issuer.human_friendly,
            not_before=_iso(validity["not_before"].native),
            not_after=_iso(validity["not_after"].native),
            serial=format(int(c.serial_number), "x"),
            is_debug=subject.get("common_name") == "Android Debug",
            self_signed=c.subject == c.issuer,
            subject_fields=fields2,
            key_algorithm=str(c.public_key.algorithm),
            error=first_error,
        )
    except Exception as exc:
        return Certificate(sha256=sha, schemes=schemes, error=f"{first_error}; {exc}"[:300])


V1_SIGNATURE_RE = re.compile(r"\AMETA-INF/(?s:.)*\.(DSA|EC|RSA)\Z")
"""androguard's test for a v1 signature block (``APK.get_signature_names``)."""


def _v1_names(files: list[str]) -> list[str]:
    """The v1 signature blocks that have their ``.SF``, as ``APK.get_signature_names``
    finds them; that method lists the whole ZIP again for every candidate."""
    present = set(files)
    return [
        f for f in files
        if V1_SIGNATURE_RE.search(f) and "{}.SF".format(f.rsplit(".", 1)[0]) in present
    ]


def _v1_ders(apk: Any, files: list[str], errors: list[str]) -> list[bytes]:
    ders: list[bytes] = []
    names = _v1_names(files)
    cms: Any = importlib.import_module("asn1crypto.cms")
    for name in names:
        block: list[bytes] | None = None
        try:
            info = cms.ContentInfo.load(apk.get_file(name))
            block = [bytes(c.chosen.dump()) for c in info["content"]["certificates"] or ()]
        except Exception as exc:
            errors.append(f"v1 signature {name}: {type(exc).__name__}: {exc}"[:300])
        if block is not None and len(block) == 1:
            # The usual case. Verifying the SignerInfo (androguard's
            # get_certificate_der, a third of a small app's parse) could only
            # choose among the block's certificates, and an unverifiable
            # signer keeps them all anyway (below).
            ders.extend(block)
            continue
        der: bytes | None = None
        try:
            der = apk.get_certificate_der(name)
        except Exception as exc:
            errors.append(f"v1 signature {name}: {type(exc).__name__}: {exc}"[:300])
        if der:
            ders.append(bytes(der))
        elif block:  # unverifiable signer: keep every certificate of the PKCS#7 block
            ders.extend(block)
    return ders


def certificates(
    apk: Any, files: list[str], errors: list[str]
) -> tuple[list[Certificate], list[str]]:
    by_scheme: dict[str, list[bytes]] = {"v1": _v1_ders(apk, files, errors)}
    for scheme, getter in (
        ("v2", "get_certificates_der_v2"),
        ("v3", "get_certificates_der_v3"),
        ("v31", "get_certificates_der_v31"),
    ):
        try:
            by_scheme[scheme] = [bytes(d) for d in getattr(apk, getter)() or ()]
        except Exception as exc:
            by_scheme[scheme] = []
            errors.append(f"{scheme} signature: {type(exc).__name__}: {exc}"[:300])
    order: dict[bytes, list[str]] = {}
    for scheme, ders in by_scheme.items():
        for der in ders:
            schemes = order.setdefault(der, [])
            if scheme not in schemes:
                schemes.append(scheme)
    certs = [_cert_facts(der, tuple(s)) for der, s in order.items()]
    used = [s for s, ders in by_scheme.items() if ders]
    return certs, used
