# SPDX-License-Identifier: Apache-2.0
"""osqd as a monitor, end to end: a config's schedule runs, differential results and snapshots
reach osqd.results.log and osqd.snapshots.log in osquery's formats, the osquery_* tables show
the schedule, configs are checked (--config_check) and reloaded (SIGHUP) with the last good one
kept, a restart continues the counters, and killing osqd -9 at random moments loses and repeats
nothing."""

import json
import os
import pathlib
import random
import signal
import subprocess
import textwrap
import time

import pytest

from conftest import OsqdProcess


def write_config(path, text):
    pathlib.Path(path).write_text(textwrap.dedent(text))


def monitor_daemon(osqd_factory, config_text, *flags, wait=True):
    daemon = osqd_factory(wait=False)
    config = daemon.directory / "osq.conf"
    write_config(config, config_text)
    daemon.argv += [f"--config_path={config}", f"--database_path={daemon.directory / 'osq.db'}",
                    f"--logger_path={daemon.directory / 'logs'}", *flags]
    daemon.config = config
    daemon.logs = daemon.directory / "logs"
    return daemon.start() if wait else daemon


def read_lines(path):
    try:
        return [json.loads(line) for line in pathlib.Path(path).read_text().splitlines()]
    except FileNotFoundError:
        return []


def wait_for(predicate, timeout=15, message="timed out"):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, message
        time.sleep(0.05)


def query(daemon, sql):
    client = daemon.client()
    try:
        return client.query(sql)
    finally:
        client.transport.close()


CLOCK = """\
    {
      // each run's unix_time differs from the last: one removed and one added line per run
      "options": {"schedule_splay_percent": 0, "custom_note": "test"},
      "schedule": {
        "clock": {"query": "SELECT unix_time FROM time", "interval": 1},
        "init": {"query": "SELECT pid, name FROM processes WHERE pid = 1", "interval": 1},
        "snap": {"query": "SELECT 1 AS one, 'a' AS two", "interval": 1, "snapshot": true}
      },
      "packs": {
        "inventory": {"queries": {"kernel": {"query": "SELECT version FROM kernel_info",
                                             "interval": 3600}}}
      },
      "decorators": {"load": ["SELECT 'deco' AS tag"]}
    }
"""


def test_schedule_to_logs(osqd_factory):
    daemon = monitor_daemon(osqd_factory, CLOCK)
    results = daemon.logs / "osqd.results.log"
    wait_for(lambda: sum(1 for r in read_lines(results) if r["name"] == "clock") >= 3,
             message=daemon.log())
    lines = read_lines(results)
    clock = [r for r in lines if r["name"] == "clock"]
    # first run: everything added with counter 0; then removed before added, counter + 1
    assert clock[0]["action"] == "added" and clock[0]["counter"] == 0
    assert [r["action"] for r in clock[1:3]] == ["removed", "added"]
    assert clock[1]["counter"] == clock[2]["counter"] == 1
    # a removed row carries the values it had when it was last seen
    assert clock[1]["columns"] == clock[0]["columns"]
    first = clock[0]
    assert list(first) == ["name", "hostIdentifier", "calendarTime", "unixTime", "epoch",
                           "counter", "numerics", "decorations", "columns", "action"]
    assert first["decorations"] == {"tag": "deco"}
    assert first["calendarTime"].endswith(" UTC") and first["numerics"] is False
    # the unchanged query logged once
    init = [r for r in lines if r["name"] == "init"]
    assert len(init) == 1 and init[0]["columns"]["pid"] == "1"
    snapshots = read_lines(daemon.logs / "osqd.snapshots.log")
    assert snapshots[0]["snapshot"] == [{"one": "1", "two": "a"}]
    assert snapshots[0]["action"] == "snapshot"

    schedule = {r["name"]: r for r in query(daemon, "SELECT * FROM osquery_schedule").response}
    assert set(schedule) == {"clock", "init", "snap", "pack_inventory_kernel"}
    assert int(schedule["clock"]["executions"]) >= 2
    assert schedule["pack_inventory_kernel"]["interval"] == "3600"
    info = query(daemon, "SELECT config_hash, config_valid, instance_id FROM osquery_info")
    assert info.response[0]["config_valid"] == "1"
    assert len(info.response[0]["config_hash"]) == 64
    packs = query(daemon, "SELECT name, active FROM osquery_packs").response
    assert packs == [{"name": "inventory", "active": "1"}]
    flags = query(daemon, "SELECT value FROM osquery_flags WHERE name = 'schedule_splay_percent'")
    assert flags.response == [{"value": "0"}]  # set by the config's options
    assert (daemon.logs / "osqd.INFO").exists()


def test_log_formats(osqd_factory):
    daemon = monitor_daemon(osqd_factory, """\
        {"options": {"schedule_splay_percent": 0},
         "schedule": {"n": {"query": "SELECT 1 AS i, 1.5 AS d, 'x' AS t, NULL AS z",
                            "interval": 1}}}
        """, "--logger_event_type=false", "--logger_numerics=true",
        "--decorations_top_level=true", "--host_identifier=specified",
        "--specified_identifier=box-7")
    results = daemon.logs / "osqd.results.log"
    wait_for(lambda: read_lines(results), message=daemon.log())
    line = read_lines(results)[0]
    assert line["diffResults"] == {"removed": [], "added": [{"i": 1, "d": 1.5, "t": "x", "z": ""}]}
    assert line["hostIdentifier"] == "box-7" and line["numerics"] is True


def test_config_check(osqd_path, tmp_path):
    def check(text):
        config = tmp_path / "c.conf"
        config.write_text(textwrap.dedent(text))
        return subprocess.run([osqd_path, "--config_check", f"--config_path={config}"],
                              capture_output=True, text=True, timeout=30)

    good = check(CLOCK)
    assert good.returncode == 0 and "config OK: 4 scheduled queries, 1 packs" in good.stdout
    bad_json = check('{"schedule": {')
    assert bad_json.returncode != 0 and "c.conf" in bad_json.stderr
    unknown = check('{"schedul": {}}')
    assert unknown.returncode != 0 and "schedul" in unknown.stderr
    syntax = check('{"schedule": {"q": {"query": "SELEC 1", "interval": 10}}}')
    assert syntax.returncode != 0 and "schedule.q" in syntax.stderr, syntax.stderr
    zero = check('{"schedule": {"q": {"query": "SELECT 1", "interval": 0}}}')
    assert zero.returncode != 0 and "interval" in zero.stderr
    dump = subprocess.run([osqd_path, "--config_dump", f"--config_path={tmp_path / 'c.conf'}"],
                          capture_output=True, text=True, timeout=30)
    assert dump.returncode != 0  # the last one written is the bad one
    example = pathlib.Path(__file__).resolve().parents[2] / "examples" / "osq.conf"
    ok = subprocess.run([osqd_path, "--config_check", f"--config_path={example}"],
                        capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0, ok.stderr


def test_bad_config_keeps_the_daemon_and_the_last_good_one(osqd_factory):
    broken = monitor_daemon(osqd_factory, '{"schedule": 3}')
    assert query(broken, "SELECT 1 AS x").response == [{"x": "1"}]
    wait_for(lambda: "config:" in broken.log(), message=broken.log())

    daemon = monitor_daemon(osqd_factory, CLOCK)
    wait_for(lambda: query(daemon, "SELECT count(*) AS c FROM osquery_schedule")
             .response == [{"c": "4"}])
    write_config(daemon.config, '{"schedule": {"q": {"query": "SELECT nope FROM time"}}}')
    daemon.process.send_signal(signal.SIGHUP)
    wait_for(lambda: "the last good one stays" in daemon.log(), message=daemon.log())
    assert query(daemon, "SELECT config_valid FROM osquery_info").response == [
        {"config_valid": "0"}]
    assert query(daemon, "SELECT count(*) AS c FROM osquery_schedule").response == [{"c": "4"}]
    write_config(daemon.config, """\
        {"options": {"schedule_splay_percent": 0},
         "schedule": {"only": {"query": "SELECT 2 AS two", "interval": 1}}}""")
    daemon.process.send_signal(signal.SIGHUP)
    wait_for(lambda: query(daemon, "SELECT name FROM osquery_schedule").response == [
        {"name": "only"}], message=daemon.log())
    assert query(daemon, "SELECT config_valid FROM osquery_info").response == [
        {"config_valid": "1"}]


def test_restart_continues_counters(osqd_factory):
    daemon = monitor_daemon(osqd_factory, CLOCK)
    results = daemon.logs / "osqd.results.log"
    wait_for(lambda: sum(1 for r in read_lines(results) if r["name"] == "clock") >= 3)
    daemon.stop()
    before = read_lines(results)
    daemon.start()
    wait_for(lambda: len(read_lines(results)) > len(before) + 2)
    daemon.stop()
    after = read_lines(results)
    init = [r for r in after if r["name"] == "init"]
    assert len(init) == 1, "an unchanged query was logged again after a restart"
    counters = [r["counter"] for r in after if r["name"] == "clock" and r["action"] == "added"]
    assert counters == list(range(len(counters))), counters


def test_kill_nine_loses_and_repeats_nothing(osqd_factory):
    """Ten queries whose results change every run, one run a second each; osqd is killed -9 at
    random moments and restarted until 200 runs are logged. Every query's counters must then run
    0, 1, 2... with no gap and no repeat, each run's removed row being the previous run's added
    row."""
    names = [f"q{i}" for i in range(10)]
    schedule = {n: {"query": f"SELECT unix_time, '{n}' AS q FROM time", "interval": 1}
                for n in names}
    daemon = monitor_daemon(osqd_factory, json.dumps(
        {"options": {"schedule_splay_percent": 0}, "schedule": schedule}), wait=False)
    results = daemon.logs / "osqd.results.log"
    rng = random.Random(1234)
    runs = 0
    kills = 0
    deadline = time.monotonic() + 240
    while runs < 200:
        assert time.monotonic() < deadline, f"only {runs} runs logged"
        daemon.start()
        time.sleep(rng.uniform(0.2, 2.5))
        daemon.process.send_signal(signal.SIGKILL)
        daemon.process.wait(timeout=30)
        kills += 1
        for stale in (daemon.socket_path, daemon.pidfile):
            if os.path.exists(stale):
                os.unlink(stale)
        runs = sum(1 for r in read_lines(results) if r["action"] == "added")
    # one clean run at the end flushes what the last kill left pending
    daemon.start()
    time.sleep(1.5)
    daemon.stop()
    lines = read_lines(results)
    for name in names:
        added = [r for r in lines if r["name"] == name and r["action"] == "added"]
        removed = [r for r in lines if r["name"] == name and r["action"] == "removed"]
        counters = [r["counter"] for r in added]
        assert counters == list(range(len(counters))), (name, counters)
        assert [r["counter"] for r in removed] == list(range(1, len(added))), name
        for earlier, later in zip(added, removed):
            assert later["columns"] == earlier["columns"], (name, earlier, later)
    assert kills >= 10


LOGGER_EXTENSION = textwrap.dedent("""
    import sys
    import osq

    OUT = sys.argv.pop(sys.argv.index("--out") + 1)
    sys.argv.remove("--out")

    @osq.register_plugin
    class Lines(osq.LoggerPlugin):
        def name(self):
            return "ext_lines"

        def log_string(self, value):
            with open(OUT, "a") as f:
                f.write(value + "\\n")

        def log_snapshot(self, value):
            with open(OUT, "a") as f:
                f.write("snapshot " + value + "\\n")

    osq.start_extension(name="ext_lines", version="1")
""")


def test_extension_logger(osqd_factory, tmp_path):
    root = pathlib.Path(__file__).resolve().parents[2]
    from conftest import THRIFT_PY
    daemon = monitor_daemon(osqd_factory, CLOCK, "--logger_plugin=filesystem,ext_lines",
                            "--extensions_interval=0.5")
    script = tmp_path / "ext_logger.py"
    script.write_text(LOGGER_EXTENSION)
    out = tmp_path / "lines.txt"
    env = dict(os.environ, PYTHONPATH=str(root / "clients" / "python"),
               OSQ_THRIFT_PY=str(THRIFT_PY))
    extension = subprocess.Popen(["/usr/bin/python3", str(script), "--socket", daemon.socket_path,
                                  "--interval", "0.5", "--out", str(out)], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        # lines made before the extension registered wait for it, then arrive in order
        wait_for(lambda: out.exists() and len(out.read_text().splitlines()) >= 4,
                 message=daemon.log())
        got = out.read_text().splitlines()
        results = [json.loads(line) for line in got if not line.startswith("snapshot ")]
        assert results[0]["name"] in ("clock", "init") and results[0]["counter"] == 0
        assert any(line.startswith("snapshot ") for line in got)
        # the filesystem logger got the same result lines
        files = [json.dumps(r, separators=(",", ":")) for r in read_lines(daemon.logs /
                                                                         "osqd.results.log")]
        assert [json.dumps(r, separators=(",", ":")) for r in results][:2] == files[:2]
    finally:
        extension.kill()
        extension.communicate(timeout=10)


def test_views_and_discovery(osqd_factory):
    daemon = monitor_daemon(osqd_factory, """\
        {
          "views": {"init_process": "SELECT pid, name FROM processes WHERE pid = 1"},
          "packs": {
            "present": {"discovery": ["SELECT 1 AS found"],
                        "queries": {"a": {"query": "SELECT 1 AS one", "interval": 3600}}},
            "absent": {"discovery": ["SELECT 1 WHERE 0"],
                       "queries": {"b": {"query": "SELECT 2 AS two", "interval": 3600}}}
          }
        }
        """)
    # the config's views are in every client's connection (once the config is in force: it
    # loads right after the socket is up)
    wait_for(lambda: query(daemon, "SELECT pid FROM init_process").response == [{"pid": "1"}],
             message=daemon.log())
    schedule = [r["name"] for r in query(daemon, "SELECT name FROM osquery_schedule").response]
    assert schedule == ["pack_present_a"]
    packs = {r["name"]: r for r in query(
        daemon, "SELECT name, active, discovery_executions FROM osquery_packs").response}
    assert packs["present"]["active"] == "1" and packs["absent"]["active"] == "0"
    assert packs["absent"]["discovery_executions"] == "1"


def test_example_config_runs(osqd_factory):
    """examples/osq.conf: osqd takes it, schedules every query, and each one runs."""
    example = pathlib.Path(__file__).resolve().parents[2] / "examples" / "osq.conf"
    daemon = monitor_daemon(osqd_factory, example.read_text())
    wait_for(lambda: query(daemon, "SELECT count(*) AS n FROM osquery_schedule").response != [
        {"n": "0"}], message=daemon.log())
    schedule = query(daemon, "SELECT name, query FROM osquery_schedule").response
    assert len(schedule) >= 10
    for row in schedule:
        reply = query(daemon, row["query"])
        assert reply.status.code == 0, (row["name"], reply.status.message)
    assert "config:" not in daemon.log()


def test_interval_decorators(osqd_factory):
    daemon = monitor_daemon(osqd_factory, """\
        {"options": {"schedule_splay_percent": 0},
         "schedule": {"one": {"query": "SELECT 1 AS one", "interval": 1}},
         "decorators": {"load": ["SELECT 'l' AS loaded"],
                        "always": ["SELECT 'a' AS always"],
                        "interval": {"60": ["SELECT 'i' AS every_minute"]}}}
        """)
    results = daemon.logs / "osqd.results.log"
    wait_for(lambda: read_lines(results), message=daemon.log())
    assert read_lines(results)[0]["decorations"] == {"always": "a", "every_minute": "i",
                                                     "loaded": "l"}


CONFIG_EXTENSION = textwrap.dedent("""
    import json
    import osq

    @osq.register_plugin
    class Remote(osq.ConfigPlugin):
        def name(self):
            return "remote_config"

        def content(self):
            return [{"main": json.dumps({
                "options": {"schedule_splay_percent": 0},
                "schedule": {"from_plugin": {"query": "SELECT 7 AS seven", "interval": 1}}})}]

    osq.start_extension(name="cfg_ext", version="1")
""")


def test_config_plugin_from_an_extension(osqd_factory, tmp_path):
    from conftest import THRIFT_PY
    root = pathlib.Path(__file__).resolve().parents[2]
    daemon = monitor_daemon(osqd_factory, "{}", "--config_plugin=remote_config",
                            "--extensions_require=cfg_ext", "--extensions_timeout=20",
                            wait=False)
    script = tmp_path / "cfg_ext.py"
    script.write_text(CONFIG_EXTENSION)
    daemon.start()
    env = dict(os.environ, PYTHONPATH=str(root / "clients" / "python"),
               OSQ_THRIFT_PY=str(THRIFT_PY))
    extension = subprocess.Popen(["/usr/bin/python3", str(script), "--socket", daemon.socket_path,
                                  "--interval", "0.5", "--timeout", "10"], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    results = daemon.logs / "osqd.results.log"
    deadline = time.monotonic() + 30
    try:
        while not read_lines(results) and extension.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        if extension.poll() is None:
            extension.kill()
        output = extension.communicate(timeout=10)[0].decode(errors="replace")
    assert read_lines(results), (f"nothing logged; the extension ({extension.returncode}) said:\n"
                                 f"{output}\nosqd said:\n{daemon.log()}")
    line = read_lines(results)[0]
    assert line["name"] == "from_plugin" and line["columns"] == {"seven": "7"}


def test_logrotate_reopen_and_stdout(osqd_factory):
    daemon = monitor_daemon(osqd_factory, CLOCK, "--logger_plugin=filesystem,stdout",
                            "--config_refresh=1")
    results = daemon.logs / "osqd.results.log"
    wait_for(lambda: read_lines(results), message=daemon.log())
    # logrotate moves the file and sends SIGHUP: the next lines go to a new file
    rotated = daemon.logs / "osqd.results.log.1"
    os.rename(results, rotated)
    daemon.process.send_signal(signal.SIGHUP)
    wait_for(lambda: read_lines(results), message=daemon.log())
    assert read_lines(rotated)
    # the stdout logger wrote the same result lines to osqd's stdout (its log file here)
    wait_for(lambda: '"name":"clock"' in daemon.log(), message=daemon.log())
    # --config_refresh reloads quietly when nothing changed
    time.sleep(1.5)
    assert "config reloaded" not in daemon.log()
