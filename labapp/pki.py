"""The lab's certificate authorities, made fresh for every lab.

The bank's, which the victim and the attacker trust, and the attacker's own.

Keys live only in the lab's private temp folder and die with it.
"""

import os
import ssl

import trustme


def make_site_pki(ca_path, names):
    """Make a lab CA, written to `ca_path`, and a certificate for `names`.

    Returns the server-side TLS context for the site; the CA in PEM is what
    the victim and the attacker trust for the bank.
    """
    ca = trustme.CA(organization_name="HTTPS lock-in lab CA")
    leaf = ca.issue_cert(*names)
    ca.cert_pem.write_to_path(str(ca_path))

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(ctx)
    return ctx


def write_proxy_ca(path):
    """Write a CA key and certificate for mitmproxy at `path`, unless one is there.

    mitmproxy needs a CA even though the lab never opens a victim's TLS. Its
    own is RSA, whose key takes 0.1-0.3 s to make and tens of ms to load at
    every start; this ECDSA one takes milliseconds. Written 0600: it is a
    private key.
    """
    if os.path.exists(path):
        return
    ca = trustme.CA(organization_name="Mallory's proxy (HTTPS lock-in lab)")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(ca.private_key_pem.bytes() + ca.cert_pem.bytes())
