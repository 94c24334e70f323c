"""The library's log through the standard logging module (logger "ami")."""

import logging
import time

import ami

SECRET = "Py-S3cr3t-Zq7x"


def records_of(caplog, client):
    return [r for r in caplog.records if r.name == "ami" and getattr(r, "ami_client", None) == client.id]


def wait_for(caplog, client, needle, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(needle in r.getMessage() for r in records_of(caplog, client)):
            return True
        time.sleep(0.01)
    return False


def test_trace_records_show_the_wire_with_the_secret_masked(start_sim, caplog):
    sim = start_sim("--user", f"logger:{SECRET}")
    caplog.set_level(ami.TRACE, logger="ami")
    with ami.Client(events="off") as c:  # log_level follows the logger: trace
        c.connect("127.0.0.1", sim.port)
        c.login("logger", SECRET)
        assert c.action("Ping")["Ping"] == "Pong"
        assert wait_for(caplog, c, "Pong")
        texts = [r.getMessage() for r in records_of(caplog, c)]
        assert any(t.startswith("-> Action: Login") and "Secret: ********" in t for t in texts), texts
        assert any(t.startswith("<- ") for t in texts)
        assert any(r.levelno == ami.TRACE and r.levelname == "TRACE" for r in records_of(caplog, c))
        assert any("state LoggedIn" in t and r.levelno == logging.INFO for t, r in zip(texts, records_of(caplog, c)))
    assert not any(SECRET in r.getMessage() for r in caplog.records)


def test_no_level_logs_the_secret_and_levels_filter(start_sim, caplog):
    sim = start_sim("--user", f"logger:{SECRET}", "--http", "127.0.0.1:0")
    caplog.set_level(ami.TRACE, logger="ami")
    for transport in ({}, {"transport": "http"}, {"transport": "http", "http_path": "/arawman"}):
        port = sim.http_port if transport else sim.port
        for level, most in (("off", 0), ("error", logging.ERROR), ("info", logging.INFO), ("trace", ami.TRACE)):
            with ami.Client(log_level=level, **transport) as c:
                c.connect("127.0.0.1", port)
                c.login("logger", SECRET)
                c.action("Ping")
                bad = ami.Client(log_level=level)
                bad.connect("127.0.0.1", sim.port)
                try:
                    bad.login("logger", "Wr0ng-" + SECRET)
                except ami.AuthError:
                    pass
                mine = records_of(caplog, c) + records_of(caplog, bad)
                bad.close()
            for r in mine:
                assert r.levelno >= most, (transport, level, r.getMessage())
            if level == "off":
                assert mine == []
            if level == "error":
                assert any("login" in r.getMessage() and r.levelno == logging.ERROR for r in mine)
    assert not any(SECRET in r.getMessage() for r in caplog.records)


def test_silent_by_default(start_sim, capfd):
    sim = start_sim()
    with ami.Client(log_level="trace") as c:
        c.connect("127.0.0.1", sim.port)
        c.login("admin", "admin")
        c.action("Ping")
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""
