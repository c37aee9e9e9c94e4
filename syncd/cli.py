"""`syncd`: argument parsing, human or JSON output, exit codes (CONTRACT section 1).

Only `main` turns errors into exit codes. stdout carries the command's answer (and with
--json nothing else); logs go to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from syncd import __version__, logs
from syncd.config import Config, config_path, load_config
from syncd.cycle import (
    Outcome,
    check,
    ingest,
    load_checked,
    plan_target,
    run_cycle,
    select_targets,
)
from syncd.errors import (
    ConfigError,
    GuardTripped,
    Problem,
    SnapshotRejected,
    StoreError,
    SyncdError,
)
from syncd.plan.model import FORMAT_VERSION
from syncd.plan.render import render_text
from syncd.show import person_card, render_person, render_unit, unit_card
from syncd.store import OrgView, Store, open_store

log = logging.getLogger("syncd")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logs.configure("debug" if args.verbose else "info")
    try:
        return args.command(args)
    except ConfigError as exc:
        return _print_problems(exc.problems, args)
    except SnapshotRejected as exc:
        print(exc.summary, file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return exc.exit_code
    except SyncdError as exc:
        print(f"syncd: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception:
        log.exception("unexpected error: this is a bug in syncd, please report it with the "
                      "traceback above")
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="syncd", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"syncd {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-c", "--config", help="config file (else $SYNCD_CONFIG, else "
                        "/etc/syncd/config.yaml)")
    common.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    json_flag = argparse.ArgumentParser(add_help=False)
    json_flag.add_argument("--json", action="store_true", help="machine-readable JSON on stdout")
    today = argparse.ArgumentParser(add_help=False)
    today.add_argument("--today", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                       help="evaluate validity as of this day")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, func: Callable[[argparse.Namespace], int], help: str,
                *parents: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, parents=[common, *parents])
        sub.set_defaults(command=func)
        return sub

    command("validate", cmd_validate, "check the config and every mapping", json_flag)
    ingest = command("ingest", cmd_ingest, "pull every source into the store once")
    ingest.add_argument("--force", action="store_true",
                        help="take the snapshot even if it shrinks a kind past the limit")
    target = argparse.ArgumentParser(add_help=False)
    target.add_argument("--target", help="only this target (default: every target)")
    plan = command("plan", cmd_plan, "show what apply would change; changes nothing",
                   json_flag, today, target)
    plan.add_argument("--detailed-exitcode", action="store_true",
                      help="exit 0 when there is nothing to do, 2 when there are changes")
    apply = command("apply", cmd_apply, "one full cycle: ingest, plan, apply", today, target)
    apply.add_argument("--allow-deletes", type=int, metavar="N", default=None,
                       help="accept up to N disables and deletes, and up to N membership "
                            "removals, this once, past the guards")
    command("run", cmd_run, "the daemon: scheduled cycles, HTTP endpoints, SIGHUP reload")
    show = command("show", cmd_show, "the address-book view of a person or unit",
                   json_flag, today)
    show.add_argument("what", choices=["person", "unit"])
    show.add_argument("id")
    return parser


def _config(args: argparse.Namespace) -> Config:
    config = load_config(config_path(args.config))
    if not args.verbose:
        logs.configure(config.logging.level, config.logging.format)
    return config


def _store(config: Config) -> Store:
    return open_store(config.store.resolved_url())


def cmd_validate(args: argparse.Namespace) -> int:
    config = _config(args)
    store = _existing_store(config)
    rendered_store = store is not None and bool(store.last_ingest())
    problems = check(config, store, date.today())
    if problems:
        return _print_problems(problems, args)
    if args.json:
        _print_json({"valid": True, "problems": []})
    else:
        what = "every template rendered against the " + (
            "store" if rendered_store else "generated sample org (the store is empty)")
        print(f"{config_path(args.config)}: valid; {what}; nothing was contacted")
    return 0


def _existing_store(config: Config) -> Store | None:
    """The store if it is already there: validate never creates one."""
    url = config.store.resolved_url()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None
    try:
        return open_store(url, read_only=True)
    except StoreError as exc:
        log.warning("not rendering against the store: %s", exc)
        return None


def cmd_ingest(args: argparse.Namespace) -> int:
    config = _config(args)
    try:
        result = ingest(config, _store(config), args.force).result
    except SyncdError as exc:
        exc.exit_code = 1  # CONTRACT: ingest exits 0 ok, 1 error, guards included
        raise
    names = ", ".join(source.name for source in config.sources)
    print(f"ingested {names}: {result.summary()}")
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    try:
        config, store, org = _cycle_start(args)
    except GuardTripped as exc:
        exc.exit_code = 1  # CONTRACT: plan exits 0, 2 or 1; a refused snapshot is an error
        raise
    plans = []
    for target in select_targets(config, args.target):
        planned = plan_target(config, store, org, target)
        planned.target.close()
        plans.append(planned.plan.as_dict())
    if args.json:
        _print_json(plans[0] if len(plans) == 1 else
                    {"format_version": FORMAT_VERSION, "plans": plans})
    else:
        print("\n\n".join(render_text(plan) for plan in plans))
    if any(plan["errors"] for plan in plans):
        return 1
    changed = any(plan["changes"] for plan in plans)
    return 2 if args.detailed_exitcode and changed else 0


def cmd_apply(args: argparse.Namespace) -> int:
    config, store, org = _cycle_start(args)
    codes = [0]
    for target in select_targets(config, args.target):
        try:
            outcome = run_cycle(config, store, org, target, args.allow_deletes)
        except SyncdError as exc:
            log.error("target %s: cycle failed: %s", target.name, exc)
            codes.append(1)
            continue
        print(render_text(outcome.plan.as_dict(), applied=True))
        print(_outcome_line(outcome))
        codes.append(3 if outcome.plan.tripped else
                     1 if outcome.rejected or outcome.plan.errors else 0)
    return 3 if 3 in codes else max(codes)


def _cycle_start(args: argparse.Namespace) -> tuple[Config, Store, OrgView]:
    config = _config(args)
    store = _store(config)
    ingest(config, store)
    return config, store, store.org(args.today or date.today())


def _outcome_line(outcome: Outcome) -> str:
    line = f"applied {len(outcome.applied)} change(s)"
    if outcome.rejected:
        line += f"; {len(outcome.rejected)} refused by the server (retried next cycle):"
        line += "".join(f"\n  {message}" for _, message in outcome.rejected)
    if outcome.plan.tripped:
        names = ", ".join(guard.name for guard in outcome.plan.tripped)
        line += (f"; guards tripped ({names}): {len(outcome.held)} disable(s)/delete(s) "
                 "and the membership removals they guard were held back; run "
                 "`syncd apply --allow-deletes N` to accept them")
    return line


def cmd_run(args: argparse.Namespace) -> int:
    from syncd.daemon.service import Daemon  # the scheduler is only loaded by the daemon

    loaded = load_checked(config_path(args.config))  # mappings too: refuse to start broken
    if not args.verbose:
        logs.configure(loaded.config.logging.level, loaded.config.logging.format)
    return Daemon(config_path(args.config), loaded).run()


def cmd_show(args: argparse.Namespace) -> int:
    config = _config(args)
    store = _store(config)
    org = store.org(args.today or date.today())
    if args.what == "person":
        data = person_card(org, args.id, store.person_accounts(args.id),
                           store.person_audit(args.id))
        render = render_person
    else:
        data, render = unit_card(org, args.id), render_unit
    if args.json:
        _print_json(data)
    else:
        print(render(data))
    return 0


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _print_problems(problems: list[Problem], args: argparse.Namespace) -> int:
    if getattr(args, "json", False) and args.command is cmd_validate:
        _print_json({"valid": False, "problems": [p.as_dict() for p in problems]})
        return 1
    out = sys.stdout if args.command is cmd_validate else sys.stderr  # validate's answer
    sources: dict[str, list[str]] = {}
    for problem in problems:
        print(problem, file=out)
        snippet = _source_line(problem, sources)
        if snippet:
            print(snippet, file=out)
    files = len({p.file for p in problems})
    print(f"{len(problems)} problem(s) in {files} file(s); nothing was contacted", file=out)
    return 1


def _source_line(problem: Problem, cache: dict[str, list[str]]) -> str | None:
    """The offending line of the file, as Terraform shows it."""
    if not problem.line:
        return None
    if problem.file not in cache:
        try:
            cache[problem.file] = Path(problem.file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            cache[problem.file] = []
    lines = cache[problem.file]
    if problem.line > len(lines) or _looks_secret(lines[problem.line - 1]):
        return None
    return f"{problem.line:>5} | {lines[problem.line - 1]}"


def _looks_secret(line: str) -> bool:
    """Lines never echoed: they name a secret, or a URL could carry one (user:pw@host)."""
    lowered = line.lower()
    return any(word in lowered for word in ("password", "token", "secret")) or bool(
        re.search(r"://[^/\s]*@", line))
