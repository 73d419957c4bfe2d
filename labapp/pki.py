"""The lab's own certificate authority, made fresh for every lab.

Keys live only in the lab's private temp folder and die with it.
"""

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
