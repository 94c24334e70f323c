"""The Python binding against a real ami-sim process."""

import asyncio
import gc
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import ami
from ami.aio import AsyncClient


def logged_in(sim, **options):
    c = ami.Client(**options)
    c.connect("127.0.0.1", sim.port)
    c.login("admin", "admin")
    return c


def test_connect_login_ping(sim):
    with ami.Client() as c:
        assert c.connect("127.0.0.1", sim.port) == "Asterisk Call Manager/5.0.2"
        assert c.state == 2
        c.login("admin", "admin")
        assert c.state == 3
        pong = c.action("Ping")
        assert pong["ping"] == "Pong" and pong.is_success
        assert 0 < len(pong["ActionID"]) < 64
    assert c.state == 5
    assert ami.version()


def test_message_is_a_read_only_case_insensitive_mapping(sim):
    with logged_in(sim) as c:
        out = c.action("Command", {"Command": "core show uptime"})
        assert "OUTPUT" in out and out["output"].startswith("System uptime:")
        assert len(out.getall("Output")) == 2
        assert out.get("Nope") is None and "Nope" not in out
        with pytest.raises(KeyError):
            out["Nope"]
        with pytest.raises(TypeError):
            out["Response"] = "x"  # read-only
        assert out.headers()[0] == ("Response", "Success")
        r = c.action("SetVar", Variable="PY", Value="1")
        assert r.is_success


def test_list_response_and_wait_event(sim):
    with logged_in(sim) as c:
        q = c.action("QueueStatus")
        assert [e.name for e in q.events] == ["QueueParams", "QueueMember", "QueueStatusComplete"]
        orig = c.action(
            "Originate",
            [("Channel", "Local/200@default"), ("Application", "Wait"), ("Async", "true")],
            wait_event="OriginateResponse",
        )
        assert orig.name == "OriginateResponse" and orig["Response"] == "Success"


def test_errors_are_typed(sim, start_sim):
    c = ami.Client()
    c.connect("127.0.0.1", sim.port)
    with pytest.raises(ami.AuthError) as e:
        c.login("admin", "wrong")
    assert "Authentication failed" in str(e.value) and e.value.status == 4
    c.close()
    with pytest.raises(ami.ConnectError):
        ami.Client().connect("127.0.0.1", 1)
    web = start_sim("--fault", "wrong-banner")
    with pytest.raises(ami.NotAmiError):
        ami.Client().connect("127.0.0.1", web.port)
    with logged_in(sim) as c:
        c.action("SimFault", Mode="stall")
        with pytest.raises(ami.TimeoutError) as e:
            c.action("Ping", timeout=0.2)
        assert isinstance(e.value, TimeoutError)  # the builtin too
    with logged_in(sim) as c:
        with pytest.raises(ami.InvalidArgumentError):
            c.action("Ping", ActionID="x\r\nAction: Logoff")
        with pytest.raises(ami.InvalidArgumentError):
            ami.Client(no_such_option=1)
    c.close()
    with pytest.raises(ami.ClosedError):
        c.action("Ping")
    c.close()  # idempotent


def test_subscribe_in_order_and_unsubscribe(sim):
    with logged_in(sim) as c:
        got = []
        done = threading.Event()

        def on_event(e):
            got.append(int(e["Seq"]))
            if len(got) == 50:
                done.set()

        sub = c.subscribe("UserEvent", on_event)
        for i in range(50):
            c.action("UserEvent", UserEvent="Py", Seq=str(i))
        assert done.wait(5)
        assert got == list(range(50))
        c.unsubscribe(sub)
        c.action("UserEvent", UserEvent="Py", Seq="99")
        time.sleep(0.1)
        assert len(got) == 50


def test_a_raising_callback_is_reported_not_swallowed(sim, caplog, capfd):
    caplog.set_level(logging.ERROR, logger="ami")
    with logged_in(sim) as c:
        calls = []

        def bad(e):
            calls.append(e)
            raise RuntimeError("boom in callback")

        c.subscribe("UserEvent", bad)
        c.action("UserEvent", UserEvent="One")
        c.action("UserEvent", UserEvent="Two")
        deadline = time.time() + 5
        while len(calls) < 2 and time.time() < deadline:
            time.sleep(0.01)
        assert len(calls) == 2  # delivery went on
        assert [str(e) for e in c.callback_errors] == ["boom in callback"] * 2
    # Logged with its traceback, printed nowhere unasked.
    reported = [r for r in caplog.records if r.name == "ami" and r.exc_info and "boom in callback" in str(r.exc_info[1])]
    assert len(reported) == 2 and all(r.levelno == logging.ERROR for r in reported)
    assert capfd.readouterr().err == ""


def test_send_async_runs_once(sim):
    with logged_in(sim) as c:
        results = []
        done = threading.Event()

        def cb(r):
            results.append(r)
            if len(results) == 100:
                done.set()

        for _ in range(100):
            c.send_async("Ping", callback=cb)
        assert done.wait(5)
        assert all(isinstance(r, ami.Message) and r["Ping"] == "Pong" for r in results)
        c.action("SimFault", Mode="stall")
        errors = []
        for _ in range(10):
            c.send_async("Ping", callback=errors.append)
    assert len(errors) == 10 and all(isinstance(e, ami.ClosedError) for e in errors)


def test_events_iterator_and_messages_outlive_the_client(sim):
    c = logged_in(sim, event_queue=True, events="user")
    for i in range(3):
        c.action("UserEvent", UserEvent="Iter", N=str(i))
    events = [e for e in c.events(timeout=0.5) if e.name == "UserEvent"]
    assert [e["N"] for e in events] == ["0", "1", "2"]
    c.close()
    del c
    gc.collect()
    assert events[2]["UserEvent"] == "Iter"  # plain data, still fine


def test_asyncio(sim):
    async def main():
        async with AsyncClient() as c:
            await c.connect("127.0.0.1", sim.port)
            await c.login("admin", "admin")
            pongs = await asyncio.gather(*(c.action("Ping") for _ in range(20)))
            assert all(p["Ping"] == "Pong" for p in pongs)
            await c.action("UserEvent", UserEvent="Async")
            while True:
                event = await asyncio.wait_for(c.next_event(), 5)
                if event.name == "UserEvent":
                    return event["UserEvent"]

    assert asyncio.run(main()) == "Async"


def test_asyncio_results_lists_errors_timeouts_and_close(sim):
    async def main():
        c = AsyncClient(action_timeout_ms=300)
        await c.connect("127.0.0.1", sim.port)
        await c.login("admin", "admin")
        q = await c.action("QueueStatus")
        assert q.is_success and [e.name for e in q.events] == ["QueueParams", "QueueMember", "QueueStatusComplete"]
        bad = await c.action("NoSuchAction")
        assert not bad.is_success  # a Response: Error is a result, not an exception
        many = await asyncio.gather(*(c.action("Ping", ActionID=f"id-{i}") for i in range(600)))
        assert [m["ActionID"] for m in many] == [f"id-{i}" for i in range(600)]
        await c.action("SimFault", Mode="stall")
        with pytest.raises(ami.TimeoutError):
            await c.action("Ping")
        pending = asyncio.ensure_future(c.action("Ping"))
        await asyncio.sleep(0.05)
        await c.close()
        with pytest.raises(ami.ClosedError):
            await pending
        with pytest.raises(ami.ClosedError):
            await c.action("Ping")

    asyncio.run(main())


def test_python_dash_m_ami_prints_events(sim):
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "ami", "--port", str(sim.port), "--count", "2", "--events", "user"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    time.sleep(1.0)
    with logged_in(sim) as c:
        c.action("UserEvent", UserEvent="ToMonitor")
        c.action("UserEvent", UserEvent="ToMonitor")
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert out.count("Event: UserEvent") == 2


@pytest.mark.parametrize("path", ["/rawman", "/arawman"])
def test_the_same_client_over_http(start_sim, path):
    sim = start_sim("--http", "127.0.0.1:0")
    with ami.Client(transport="http", http_path=path) as c:
        assert c.connect("127.0.0.1", sim.http_port).startswith("Asterisk/")
        with pytest.raises(ami.AuthError):
            c.login("admin", "wrong")
        c.login("admin", "admin")
        assert c.state == 3
        assert c.action("Ping")["Ping"] == "Pong"
        out = c.action("Command", {"Command": "core show version"})
        assert out.getall("Output")[0].startswith("Asterisk ")
        q = c.action("QueueStatus")
        assert [e.name for e in q.events] == ["QueueParams", "QueueMember", "QueueStatusComplete"]
        got = []
        done = threading.Event()

        def on_event(e):
            got.append(e["UserEvent"])
            if len(got) == 5:
                done.set()

        c.subscribe("UserEvent", on_event)
        for i in range(5):
            c.action("UserEvent", UserEvent=f"h{i}")
        assert done.wait(10), got
        assert got == [f"h{i}" for i in range(5)]


def test_full_when_max_pending_actions_wait(sim):
    with logged_in(sim, max_pending=5) as c:
        c.action("SimFault", Mode="stall")
        errors = []
        for _ in range(5):
            c.send_async("Ping", callback=errors.append)
        with pytest.raises(ami.FullError) as e:
            c.send_async("Ping", callback=errors.append)
        assert e.value.status == 11 and "max_pending=5" in str(e.value)
        with pytest.raises(ami.FullError):
            c.action("Ping", timeout=0.1)
    assert len(errors) == 5 and all(isinstance(e, ami.ClosedError) for e in errors)


# The hostile-server matrix (tests/hostile.rs, tests/c/test_hostile.c): a
# fault, the probe action, how it must end, and whether the client carries on.
HOSTILE = [
    ("duplicate-response", "Ping", None, True),
    ("unknown-id", "Ping", None, True),
    ("open-list", "CoreShowChannels", ami.TimeoutError, True),
    ("interleave", "QueueStatus", None, True),
    ("nul-utf8", "Ping", None, True),
    ("reset-mid-message", "Ping", ami.DisconnectedError, False),
    ("close-mid-message", "Ping", ami.DisconnectedError, False),
    ("endless-line", "Ping", ami.ProtocolError, False),
    ("million-headers", "Ping", ami.ProtocolError, False),
    ("huge", "Ping", ami.ProtocolError, False),
]


@pytest.mark.parametrize("fault,probe,error,carries", HOSTILE)
def test_hostile_server(sim, fault, probe, error, carries):
    with logged_in(sim, action_timeout_ms=500) as c:
        c.action("SimFault", Mode=fault)
        started = time.monotonic()
        if error is None:
            r = c.action(probe)
            assert r.is_success
            if fault == "interleave":
                assert len(r.events) == 3
        else:
            with pytest.raises(error):
                c.action(probe)
        assert time.monotonic() - started < 3
        if carries:
            assert c.action("Ping")["Ping"] == "Pong"
        else:
            assert c.state == 0


def test_events_in_batches_are_lazy_messages_with_the_same_answers(sim):
    raw = "Event: SimFlood\r\nPrivilege: call,all\r\nSeq: 5\r\nseq: 6\r\nName: Zoë"
    lazy, eager = ami.Message._lazy(raw), ami.Message([tuple(l.split(": ", 1)) for l in raw.split("\r\n")])
    for key in ["seq", "SEQ", "Event", "name", "Privilege"]:
        assert lazy[key] == eager[key]
    assert lazy.get("nope") is None and "nope" not in lazy and "SEQ" in lazy
    assert lazy.getall("Seq") == ["5", "6"] and lazy.headers() == eager.headers() and len(lazy) == len(eager)
    assert lazy.name == "SimFlood" and list(lazy) == list(eager)
    with logged_in(sim, event_queue=True) as c:
        for i in range(50):
            c.action("UserEvent", UserEvent="Batch", Seq=str(i))
        seqs = []
        for e in c.events(timeout=2, batch=7):
            if e.get("UserEvent") == "Batch":
                seqs.append(int(e["Seq"]))
                if len(seqs) == 50:
                    break
        assert seqs == list(range(50))
