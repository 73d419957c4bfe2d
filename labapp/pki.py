"""The lab's own certificate authority, made fresh for every lab.

Keys live only in the lab's private temp folder and die with it.
"""

import os
import ssl

import trustme


def make_site_pki(folder, names):
    """Make a lab CA and a certificate for `names`; return ``(ca_path, ctx)``.

    `ctx` is the server-side TLS context for the site, and `ca_path` the CA
    in PEM that the victim and the attacker trust for the bank.
    """
    ca = trustme.CA(organization_name="HTTPS lock-in lab CA")
    leaf = ca.issue_cert(*names)

    ca_path = os.path.join(folder, "lab-ca.pem")
    ca.cert_pem.write_to_path(ca_path)

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(ctx)
    return ca_path, ctx
