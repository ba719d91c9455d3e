"""`make demo`: the demo network starts, reaches its seeded state over real HTTP, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import re
import signal
import smtplib
import subprocess
import threading
import time
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import quote

import httpx
import psutil
import pytest

from tests.support.processes import PYTHON, fedihub_env

pytestmark = pytest.mark.slow

# Five interpreters seed through about twenty-five `fedihub` commands: generous for a busy 2-core machine.
READY_TIMEOUT = 300.0
STOP_TIMEOUT = 60.0
SERVERS = ("Chicago", "Springfield", "Cleveland", "Illinois", "National")


class Demo:
    """`python -m fedihub.demo` as a person runs it, with its stdout collected line by line."""

    def __init__(self, *args: str, cwd: Path) -> None:
        self.lines: list[str] = []
        self.popen = subprocess.Popen(
            [PYTHON, "-m", "fedihub.demo", *args], cwd=cwd, env=fedihub_env(), text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, prefix: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(line.startswith(prefix) for line in self.lines):
            if self.popen.poll() is not None:
                self._reader.join(5)
                pytest.fail(f"the demo exited ({self.popen.returncode}) before {prefix!r}:\n{self.output}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {prefix!r} line within {timeout:.0f} s:\n{self.output}")
            time.sleep(0.2)

    def wait_for_mail(
        self, mail_dir: Path, wanted: Callable[[EmailMessage], bool], what: str, timeout: float = 60
    ) -> list[EmailMessage]:
        """The caught messages ``wanted`` keeps, once there is one: another process's worker sends them,
        so there is no step of ours to wait on."""
        deadline = time.monotonic() + timeout
        while True:
            found = [message for message in mail_in(mail_dir) if wanted(message)]
            if found:
                return found
            if self.popen.poll() is not None:
                pytest.fail(f"the demo exited ({self.popen.returncode}) before {what} was mailed:\n{self.output}")
            if time.monotonic() > deadline:
                subjects = [(str(m["To"]), str(m["Subject"])) for m in mail_in(mail_dir)]
                pytest.fail(f"no message {what} within {timeout:.0f} s; caught: {subjects}")
            time.sleep(0.2)

    def finish(self, timeout: float) -> int:
        code = self.popen.wait(timeout)
        self._reader.join(5)
        return code

    def server_urls(self) -> dict[str, str]:
        found = dict(re.findall(r"^  (\w+) +(http://127\.0\.0\.\d+:\d+) ", self.output, re.MULTILINE))
        assert set(found) == set(SERVERS), self.output
        return found

    def call_url(self) -> str:
        match = re.search(r"^ +(http://127\.0\.0\.2:\d+/o/[0-9a-f-]+)$", self.output, re.MULTILINE)
        assert match, self.output
        return match.group(1)

    def kill_everything(self) -> None:
        """Clean-up after a failed test: the demo and whatever it started."""
        if self.popen.poll() is None:
            for child in psutil.Process(self.popen.pid).children(recursive=True):
                child.kill()
            self.popen.kill()
            self.popen.wait()


def page(url: str) -> str:
    response = httpx.get(url, timeout=20, trust_env=False)
    assert response.status_code == 200, (url, response.status_code, response.text[:500])
    return response.text


def organizer_page(base_url: str, path: str) -> str:
    """``path`` as the server's demo admin sees it, logged in through the login form."""
    with httpx.Client(base_url=base_url, timeout=20, trust_env=False) as browser:
        form = browser.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token, form
        login = browser.post("/login", data={"username": "admin", "password": "fedihub-demo",
                                             "csrf_token": token.group(1)})
        assert login.status_code == 303, login.text[:500]
        response = browser.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
        return response.text


def mail_in(mail_dir: Path) -> list[EmailMessage]:
    """The mail catcher's .eml files, parsed, in arrival order."""
    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(eml.read_bytes()) for eml in sorted(mail_dir.glob("*.eml"))]


def addressed(to: str, about: str = "") -> Callable[[EmailMessage], bool]:
    return lambda message: message["To"] == to and about in str(message["Subject"])


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None, message
    return str(body.get_content())


def pledged(html: str) -> str:
    match = re.search(r'data-rollup="pledged">(\d+)<', html)
    assert match, html
    return match.group(1)


def carriers(html: str) -> list[str]:
    match = re.search(r'data-rollup="carriers">(.*?)</ul>', html, re.DOTALL)
    assert match, "no hubs carrying the call"
    return re.findall(r'<a href="[^"]*">([^<]+)</a>', match.group(1))


def test_the_demo_network_is_seeded_over_real_federation_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    demo = Demo("--data-dir", str(data_dir), "--free-ports", "--timeout", "120", cwd=tmp_path)
    try:
        demo.wait_for_line("ready:", READY_TIMEOUT)
        urls, call = demo.server_urls(), demo.call_url()
        assert call.startswith(urls["Chicago"] + "/o/")
        assert "admin / fedihub-demo" in demo.output
        servers = psutil.Process(demo.popen.pid).children(recursive=True)
        assert len(servers) == len(SERVERS), [p.cmdline() for p in servers]

        # The roll-up on the call's own server and on the national hub's server, read over HTTP.
        origin = page(call)
        copy = page(f"{urls['National']}/calls/view?url={quote(call, safe='')}")
        for html in (origin, copy):
            assert pledged(html) == "3"
            assert "Springfield rally for rent control" in html and "Cleveland march for rent control" in html
            assert carriers(html) == ["Illinois Coalitions Hub", "National Hub"]

        # The call climbed the tree: the national hub's page carries it with its roll-up line.
        national_hub = page(f"{urls['National']}/g/national")
        carried = national_hub.split('id="carried-heading"', 1)[1]
        assert "National day of action for rent control" in carried
        assert re.search(r"<strong>3</strong> coalitions pledged", carried)
        # Springfield joined the state hub by request, and the hub approved it.
        assert "Springfield Renters United" in page(f"{urls['Illinois']}/g/illinois")

        # Calls come down the tree too: Cleveland's call, boosted by the national hub and passed down by
        # the Illinois hub, is on Springfield's dashboard, next to the pledge Springfield made.
        dashboard = organizer_page(urls["Springfield"], "/dashboard")
        calls = dashboard.split('id="calls-springfield-renters"', 1)[1].split('id="pledges-springfield-renters"', 1)
        assert "National evening of tenant assemblies" in calls[0] and "via Illinois Coalitions Hub" in calls[0]
        assert "National day of action for rent control" in calls[1]
        assert "Springfield rally for rent control" in calls[1]

        # The demo's SMTP catcher keeps what it receives as .eml files, where the guide says.
        match = re.search(r"SMTP catcher \(smtp://127\.0\.0\.1:(\d+)\)", demo.output)
        assert match, demo.output
        mail_dir = data_dir / "mail"
        assert f"{mail_dir}/" in demo.output
        # The hubs' admins were told at once, by e-mail, that a member asked to join (What's new notices).
        told = demo.wait_for_mail(mail_dir, addressed("admin@illinois.demo.example"), "to the Illinois hub's admin")
        assert "Springfield Renters United" in text_of(told[0])
        assert "a. Already there: the Illinois and national hubs' admins were told at once" in demo.output
        # The national calls the Illinois hub passed down reached Springfield's organizers by e-mail at
        # once (their choice for new calls from their hubs, made while seeding): one message per call.
        springfield_admin = "admin@springfield.demo.example"
        for title in ("National day of action for rent control", "National evening of tenant assemblies"):
            [notice] = demo.wait_for_mail(mail_dir, addressed(springfield_admin, about=title),
                                          f"to Springfield's admin about {title!r}")
            assert notice["Subject"] == f"Illinois Coalitions Hub brought a new call: {title}.", notice["Subject"]
            assert title in text_of(notice) and "Springfield Renters United" in text_of(notice)
            assert urls["Springfield"] + "/calls/view?url=" in text_of(notice)
        assert "b. Already there: the national calls in Springfield's mailbox" in demo.output
        assert f"grep -l 'To: {springfield_admin}' {mail_dir}/*.eml" in demo.output
        # Nothing else went to Springfield at once: not the local actions pledged to those calls, which came
        # down with them, and no other kind (those keep their defaults).
        assert sorted(str(m["Subject"]) for m in mail_in(mail_dir) if m["To"] == springfield_admin) == [
            "Illinois Coalitions Hub brought a new call: National day of action for rent control.",
            "Illinois Coalitions Hub brought a new call: National evening of tenant assemblies.",
        ]
        before = set(mail_dir.glob("*.eml"))
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "demo@a.example", "organizer@b.example", "Caught?"
        message.set_content("A message for the demo's mailbox.")
        with smtplib.SMTP("127.0.0.1", int(match.group(1)), timeout=20) as client:
            client.send_message(message)
        [caught] = set(mail_dir.glob("*.eml")) - before
        assert "Subject: Caught?" in caught.read_text()

        # A second demo on the same directory would wipe this one's databases under it: refused.
        second = subprocess.run([PYTHON, "-m", "fedihub.demo", "--data-dir", str(data_dir)], env=fedihub_env(),
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        assert f"another demo (process {demo.popen.pid}) runs from {data_dir}" in second.stderr
        assert pledged(page(call)) == "3"

        demo.popen.send_signal(signal.SIGINT)
        assert demo.finish(STOP_TIMEOUT) == 0, demo.output
        assert demo.lines[-1] == "demo: all servers stopped", demo.output
        gone, alive = psutil.wait_procs(servers, timeout=5)
        assert not alive, [p.pid for p in alive]
        assert "killed after the grace period" not in demo.output  # every server stopped on SIGTERM
    finally:
        demo.kill_everything()

    # --keep brings the same network back on the same addresses without seeding it again…
    again = Demo("--data-dir", str(data_dir), "--keep", cwd=tmp_path)
    try:
        again.wait_for_line("ready:", READY_TIMEOUT)
        assert f"kept the network seeded before (the call is {call})" in again.output
        assert again.server_urls() == urls
        assert "creating an admin" not in again.output
        assert pledged(page(call)) == "3"

        # …and when one of its servers dies, the demo says which, shows its log, and stops the others.
        servers = psutil.Process(again.popen.pid).children(recursive=True)
        [cleveland] = [p for p in servers if "127.0.0.4" in p.cmdline()]
        cleveland.kill()
        assert again.finish(STOP_TIMEOUT) == 1, again.output
        assert f"the Cleveland server ({urls['Cleveland']}) exited with code -9:" in again.output
        assert "Application startup complete" in again.output  # the end of its log
        _, alive = psutil.wait_procs(servers, timeout=5)
        assert not alive, [p.pid for p in alive]
    finally:
        again.kill_everything()


def test_the_demo_refuses_to_wipe_a_directory_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("precious")

    result = subprocess.run(
        [PYTHON, "-m", "fedihub.demo", "--data-dir", str(tmp_path)], env=fedihub_env(), capture_output=True,
        text=True, timeout=60,
    )

    assert result.returncode == 1
    assert "holds files the demo did not make (notes.txt)" in result.stderr
    assert (tmp_path / "notes.txt").read_text() == "precious"
