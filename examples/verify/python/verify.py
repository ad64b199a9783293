#!/usr/bin/env python3
"""Relying-party example (Python, PyJWT with cryptography): verify a ztmint token the way
docs/verifying.md says.

    python verify.py <issuer> <audience> <token> [required-scope ...]

Exits 0 and prints the claims for a genuine token, 1 for any token it refuses, 2 on bad usage.
"""
import json
import sys
import urllib.request

import jwt  # PyJWT

LEEWAY_S = 30  # small clock-skew allowance for exp, nbf and iat
REQUIRED = ["iss", "sub", "aud", "iat", "nbf", "exp", "jti", "scope", "pol"]


def discover(issuer: str) -> str:
    """The JWKS URL from the issuer's discovery document, which must name this issuer."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    with urllib.request.urlopen(url, timeout=10) as res:
        discovery = json.load(res)
    if discovery.get("issuer") != issuer:
        raise ValueError(f"discovery names issuer {discovery.get('issuer')!r}, not {issuer!r}")
    return discovery["jwks_uri"]


def verify(issuer: str, audience: str, token: str, required_scopes: list[str]) -> dict:
    header = jwt.get_unverified_header(token)
    # EdDSA only: never none, HS*, RS* (PyJWT also refuses any alg not listed in `algorithms`).
    if header.get("alg") != "EdDSA":
        raise ValueError(f"alg {header.get('alg')!r} is not EdDSA")
    if header.get("typ") != "JWT":
        raise ValueError(f"typ {header.get('typ')!r} is not JWT")
    if not header.get("kid"):
        raise ValueError("the header has no kid")
    signing_key = jwt.PyJWKClient(discover(issuer), timeout=10).get_signing_key(header["kid"])
    claims = jwt.decode(
        token,
        signing_key.key,
        algorithms=["EdDSA"],
        issuer=issuer,
        audience=audience,
        leeway=LEEWAY_S,
        options={"require": REQUIRED, "verify_signature": True},
    )
    for name in ("sub", "jti", "scope", "pol"):
        if not isinstance(claims.get(name), str):
            raise ValueError(f"claim {name} is not a string")
    # scope: space-separated scope-tokens; every required scope must be among them.
    scopes = claims["scope"].split()
    missing = [s for s in required_scopes if s not in scopes]
    if missing:
        raise ValueError(f"missing scope(s): {' '.join(missing)}")
    return {**claims, "scopes": scopes}


def main() -> int:
    if len(sys.argv) < 4:
        print("usage: verify.py <issuer> <audience> <token> [required-scope ...]", file=sys.stderr)
        return 2
    try:
        claims = verify(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
    except Exception as err:  # any failure is a refusal
        print(f"refused: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    print(json.dumps(claims, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
