"""alerts.yml loads into Prometheus as is, and its alerts fire when, and only when, they should."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
RULES = REPO / "alerts.yml"
RULE_TESTS = REPO / "tests" / "alerts_test.yml"


def promtool() -> str:
    """The tool, or a failure (not a skip): these checks must run wherever tests run."""
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool is missing: run scripts/install-test-deps (Debian: prometheus)")
    return found


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120)


def test_promtool_accepts_the_rules():
    done = run(promtool(), "check", "rules", str(RULES))
    assert done.returncode == 0, done.stdout + done.stderr


def test_alerts_fire_on_synthetic_series():
    done = run(promtool(), "test", "rules", str(RULE_TESTS))
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_is_tested_and_actionable():
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    assert [group["name"] for group in rules] == ["syncd"]
    alerts = {rule["alert"]: rule for rule in rules[0]["rules"]}
    tested = {case["alertname"] for test in yaml.safe_load(RULE_TESTS.read_text(
        encoding="utf-8"))["tests"] for case in test["alert_rule_test"] if case["exp_alerts"]}
    assert set(alerts) == tested, "every alert needs a case in tests/alerts_test.yml where it fires"
    for name, rule in alerts.items():
        assert "for" in rule, name
        assert rule["labels"]["severity"] in {"warning", "critical"}, name
        assert {"summary", "description"} <= rule["annotations"].keys(), name
        assert re.search(r"`(syncd|sudo|systemctl|journalctl) [^`]+`",
                         rule["annotations"]["description"]), f"{name}: say what to run"
