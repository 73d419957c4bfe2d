"""The lab's lifecycle: start, reuse, stop, and nothing left behind."""

import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from labapp import Lab, LearnerCodeError, NotRunningError, create_bank, setup_report
from labapp.attacker import Attacker
from labapp.pki import write_proxy_ca

from .processes import mitmdumps, wait_gone
from .sockets import listening_addresses


def test_start_twice_reuses_the_servers_and_the_proxy(lab):
    ports = (lab.site.http_port, lab.site.https_port, lab.attacker.proxy.port)
    pid = lab.attacker._process.pid

    lab.start()

    assert (lab.site.http_port, lab.site.https_port, lab.attacker.proxy.port) == ports
    assert lab.attacker._process.pid == pid


def test_start_again_keeps_the_app_served_last(lab):
    fixed = create_bank({"SESSION_COOKIE_SECURE": True})
    lab.serve(fixed)

    lab.start()

    assert lab.app is fixed


def test_start_with_an_app_serves_it(lab):
    weak = create_bank()

    lab.start(weak)

    assert lab.app is weak


def test_two_threads_starting_at_once_share_one_lab():
    before = mitmdumps(os.getpid())
    lab = Lab()
    threads = [threading.Thread(target=lab.start) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        pid, folder = lab.attacker._process.pid, lab.folder

        # Parts from two starts would not trust each other's certificate.
        assert "The lab is ready." in setup_report(lab)
        assert [p for p in mitmdumps(os.getpid()) if p != pid] == before
    finally:
        lab.stop()
    assert wait_gone([pid], folder)


def test_serving_the_build_function_itself_says_to_call_it(lab):
    def build_bank():
        return create_bank()

    with pytest.raises(LearnerCodeError, match=r"lab.serve\(build_bank\(\)\)"):
        lab.serve(build_bank)


def test_everything_listens_on_loopback_only(lab):
    own = listening_addresses(os.getpid())
    proxy = listening_addresses(lab.attacker._process.pid)

    assert {ip for ip, _ in own + proxy} == {"127.0.0.1"}
    assert lab.site.http_port in {port for _, port in own}
    assert [port for _, port in proxy] == [lab.attacker.proxy.port]


def test_stop_ends_the_proxy_and_deletes_the_folder():
    lab = Lab().start()
    pid, folder = lab.attacker._process.pid, lab.folder

    lab.stop()
    lab.stop()

    assert wait_gone([pid], folder, seconds=1)
    assert not lab.running


def test_stop_closes_both_ports_and_ends_their_threads():
    lab = Lab().start()
    ports = (lab.site.http_port, lab.site.https_port)

    lab.stop()

    names = {f"labapp-site-{port}" for port in ports}
    assert not [t for t in threading.enumerate() if t.name in names]
    for port in ports:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_a_client_that_connects_and_says_nothing_holds_up_no_one():
    lab = Lab().start()
    port = lab.site.https_port
    silent = socket.create_connection(("127.0.0.1", port))
    try:
        response = lab.transport().send("GET", "https://bank.test/")
    finally:
        lab.stop()
        silent.close()

    assert response.status == 200
    serving = [t for t in threading.enumerate() if t.name == f"labapp-site-{port}"]
    assert serving == []


def test_the_attacker_has_its_own_ecdsa_ca_readable_by_its_user_only(lab):
    confdir = Path(lab.folder, "mitm")
    ca = confdir / "mitmproxy-ca.pem"
    key = serialization.load_pem_private_key(ca.read_bytes(), None)

    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert stat.S_IMODE(ca.stat().st_mode) == 0o600
    assert stat.S_IMODE(confdir.stat().st_mode) == 0o700
    assert ca.read_bytes().split(b"-----END EC PRIVATE KEY-----")[1].strip() not in (
        Path(lab.ca_path).read_bytes()
    )
    # mitmproxy made no RSA store of its own beside it.
    assert not list(confdir.glob("*.p12"))


def test_write_proxy_ca_keeps_a_ca_already_there(tmp_path):
    ca = tmp_path / "mitmproxy-ca.pem"
    write_proxy_ca(ca)
    first = ca.read_bytes()

    write_proxy_ca(ca)

    assert ca.read_bytes() == first


def test_write_proxy_ca_from_many_starts_at_once_leaves_one_whole_ca(tmp_path):
    ca = tmp_path / "mitmproxy-ca.pem"
    errors = []

    def write():
        try:
            write_proxy_ca(ca)
        except Exception as err:  # noqa: BLE001 - any error fails the test
            errors.append(err)

    threads = [threading.Thread(target=write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert serialization.load_pem_private_key(ca.read_bytes(), None)
    assert [p.name for p in tmp_path.iterdir()] == [ca.name]


def test_a_learners_file_named_like_a_standard_module_breaks_nothing(
    tmp_path, monkeypatch
):
    (tmp_path / "gzip.py").write_text("raise ImportError('a learner's gzip.py')\n")
    monkeypatch.chdir(tmp_path)

    lab = Lab().start()
    try:
        assert lab.running
    finally:
        lab.stop()


def test_a_proxy_stopped_while_it_waits_for_its_config_exits_by_itself(tmp_path):
    attacker = Attacker(tmp_path, tmp_path / "lab-ca.pem")
    attacker.spawn()
    process = attacker._process
    for _ in range(400):  # 20 s at most
        if listening_addresses(process.pid) or process.poll() is not None:
            break
        time.sleep(0.05)
    assert listening_addresses(process.pid), "mitmdump did not start listening"

    attacker.stop()

    # Not killed after a 5 s wait: closing its stdin let it stop.
    assert process.returncode in (0, 1)


def test_using_a_stopped_lab_says_what_to_do():
    with pytest.raises(NotRunningError, match="start_lab"):
        Lab().victim()


@pytest.mark.parametrize("bad", [None, "app", 42, Lab], ids=repr)
def test_serve_refuses_what_is_not_an_app(lab, bad):
    with pytest.raises(LearnerCodeError, match="return app"):
        lab.serve(bad)


def test_two_labs_never_see_each_others_traffic(lab):
    other = Lab().start()
    try:
        lab.attacker.clear()
        other.victim().open("http://bank.test/")

        assert lab.attacker.events() == []
        assert [e.kind for e in other.attacker.events("request")] == ["request"]
    finally:
        other.stop()


@pytest.mark.parametrize(
    "how", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name
)
def test_a_dying_parent_leaves_nothing_behind(tmp_path, how):
    script = textwrap.dedent("""
        import sys, time, labapp
        lab = labapp.start_lab()
        print(lab.attacker._process.pid, lab.folder, flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    )
    try:
        pid, folder = parent.stdout.readline().split()
        parent.send_signal(how)
        parent.wait(timeout=10)
        assert wait_gone([int(pid)], folder), f"mitmdump {pid} or {folder} survived"
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()


def test_case_f20_the_attacker_trusts_exactly_the_lab_ca(lab):
    command = lab.attacker._process.args

    assert f"ssl_verify_upstream_trusted_ca={lab.ca_path}" in command
    assert not [arg for arg in command if "ssl_insecure" in arg or "-k" == arg]
