"""The lab's certificate authorities, made fresh for every lab.

The bank's, which the victim and the attacker trust, and the attacker's own.

Keys live only in the lab's private temp folder and die with it.
"""

import contextlib
import os
import ssl
import tempfile

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
    every start; this ECDSA one takes milliseconds. It is a private key, so
    0600, and it appears whole or not at all: written aside, then linked in.
    """
    if os.path.exists(path):
        return
    ca = trustme.CA(organization_name="Mallory's proxy (HTTPS lock-in lab)")
    descriptor, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".ca-")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(ca.private_key_pem.bytes() + ca.cert_pem.bytes())
        # A link never replaces a CA that another start put there first.
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)
    finally:
        os.unlink(temp)
