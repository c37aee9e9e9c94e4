"""syncd keeps LDAP directories in step with the organisation in HR's exports.

The command line: argument parsing, human or JSON output, exit codes. Only `main` turns
errors into exit codes. stdout carries the command's answer (and with --json nothing
else); logs go to stderr.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shtab

from syncd import __version__, logs
from syncd.clihelp import COMMANDS
from syncd.config import Config, config_path, load_config
from syncd.errors import (
    ConfigError,
    GuardTripped,
    NotFound,
    Problem,
    SnapshotRejected,
    SyncdError,
    group_problems,
)
from syncd.plan.model import FORMAT_VERSION, Change, Plan
from syncd.plan.render import render_summary, render_text
from syncd.progress import ApplyProgress
from syncd.show import person_card, render_person, render_unit, unit_card

if TYPE_CHECKING:  # the stages load only for the commands that run them: `show` stays quick
    from syncd.cycle import Outcome
from syncd.store import OrgView, OtherSchema, Store, open_store

log = logging.getLogger("syncd")

BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a reader gone, as in `| head`


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logs.configure("debug" if args.verbose else "info")
    try:
        code = _run(args)
        sys.stdout.flush()  # a reader that left shows here, not at interpreter exit
        return code
    except BrokenPipeError:  # `syncd plan | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error
        return BROKEN_PIPE


def _run(args: argparse.Namespace) -> int:
    """The command, with every expected error as its message and exit code; every store
    it opened is closed after it, whatever happened."""
    try:
        with ExitStack() as args.opened:
            return args.command(args)
    except BrokenPipeError:
        raise
    except ConfigError as exc:
        return _print_problems(exc.problems, args)
    except SnapshotRejected as exc:
        print(exc.summary, file=sys.stderr)
        for line in _grouped(exc.problems):
            print(f"  {line}", file=sys.stderr)
        return exc.exit_code
    except SyncdError as exc:
        print(f"syncd: {logs.redact(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception:
        log.exception("unexpected error: this is a bug in syncd, please report it with the "
                      "traceback above")
        return 1


def _parser() -> argparse.ArgumentParser:
    """Options common to every command go before or after it: `syncd -c F plan` and
    `syncd plan -c F` both work."""
    parser = argparse.ArgumentParser(
        prog="syncd", description=__doc__.splitlines()[0],
        epilog="`syncd COMMAND --help` shows each command's options, exit status and examples.")
    parser.add_argument("--version", action="version", version=f"syncd {__version__}")
    _common_options(parser, default=None)
    common = argparse.ArgumentParser(add_help=False)
    _common_options(common, default=argparse.SUPPRESS)  # else it would undo the one before
    json_flag = argparse.ArgumentParser(add_help=False)
    json_flag.add_argument("--json", action="store_true", help="machine-readable JSON on stdout")
    today = argparse.ArgumentParser(add_help=False)
    today.add_argument("--today", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                       help="evaluate validity as of this day")
    target = argparse.ArgumentParser(add_help=False)
    target.add_argument("--target", help="only this target (default: every target)")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, func: Callable[[argparse.Namespace], int],
                *parents: argparse.ArgumentParser) -> argparse.ArgumentParser:
        text = COMMANDS[name]
        sub = commands.add_parser(name, help=text.summary, description=text.summary,
                                  epilog=text.epilog(), parents=[common, *parents],
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.set_defaults(command=func)
        return sub

    command("validate", cmd_validate, json_flag)
    command("ingest", cmd_ingest).add_argument(
        "--force", action="store_true",
        help="take the snapshot even if it shrinks a kind past the limit")
    plan = command("plan", cmd_plan, json_flag, today, target)
    plan.add_argument("--detailed-exitcode", action="store_true",
                      help="exit 0 when there is nothing to do, 2 when there are changes")
    view = plan.add_mutually_exclusive_group()
    view.add_argument("--summary", action="store_true",
                      help="only the counts and the guards of each target")
    view.add_argument("--person", metavar="PERSON",
                      help="one person's trace (by id, username or email): in scope or not "
                           "and why, the entry matched, each attribute with the rule and "
                           "source record behind it")
    apply = command("apply", cmd_apply, json_flag, today, target)
    apply.add_argument("--allow-deletes", type=int, metavar="N", default=None,
                       help="accept up to N disables and deletes, and up to N membership "
                            "removals, this once, past the guards")
    apply.add_argument("--allow-changes", type=int, metavar="N", default=None,
                       help="accept up to N objects whose values change or vanish, per "
                            "attribute, this once, past the attribute_changes guard")
    apply.add_argument("--full", action="store_true",
                       help="read and plan every target even where nothing changed since "
                            "its last cycle (a full reconcile)")
    command("run", cmd_run)
    show = command("show", cmd_show, json_flag, today)
    show.add_argument("what", choices=["person", "unit"])
    show.add_argument("id", help="a unit's id; a person's id, username or email address")
    completion = command("completion", cmd_completion)
    completion.add_argument("shell", choices=shtab.SUPPORTED_SHELLS)
    completion.set_defaults(parser=parser)
    return parser


def _common_options(parser: argparse.ArgumentParser, default: Any) -> None:
    config = parser.add_argument("-c", "--config", default=default, help="config file (else "
                                 "$SYNCD_CONFIG, else /etc/syncd/config.yaml)")
    config.complete = shtab.FILE  # type: ignore[attr-defined]
    parser.add_argument("-v", "--verbose", action="store_true", default=default or False,
                        help="debug logging")


def _config(args: argparse.Namespace) -> Config:
    config = load_config(config_path(args.config))
    if not args.verbose:
        logs.configure(config.logging.level, config.logging.format)
    return config


def _store(args: argparse.Namespace, config: Config) -> Store:
    return _opened(args, open_store(config.store.resolved_url()))


def _opened(args: argparse.Namespace, store: Store) -> Store:
    """`store`, closed when the command ends."""
    args.opened.callback(store.close)
    return store


def cmd_validate(args: argparse.Namespace) -> int:
    from syncd.cycle import check

    config = _config(args)
    store = _existing_store(config)
    if store is not None:
        _opened(args, store)
    checked = check(config, store, date.today())
    if not args.json:
        for notice in checked.notices:
            print(f"note: {notice}")
    if checked.problems:
        return _print_problems(checked.problems, args)
    if args.json:
        _print_json({"valid": True, "problems": [], "notices": checked.notices})
    else:
        print(f"{config_path(args.config)}: valid; every source read and every template "
              f"rendered against {checked.rendered_against}; nothing was written to any target")
    return 0


def _existing_store(config: Config) -> Store | None:
    """The store if it is already there: validate never creates one. A store of another
    syncd version is left aside (the config is checked against the sources instead); a
    damaged or unreadable one is an error."""
    url = config.store.resolved_url()
    if _no_sqlite_file(url):
        return None
    try:
        return open_store(url, read_only=True)
    except OtherSchema as exc:
        log.warning("not rendering against the store: %s", exc)
        return None


def _no_sqlite_file(url: str) -> bool:
    return url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists()


def _plan_store(config: Config) -> Store:
    """The store `plan` reads, read-only: plan needs no write access. Without one yet,
    an empty one in memory: plan creates nothing, no store file either."""
    url = config.store.resolved_url()
    if _no_sqlite_file(url):
        return open_store("sqlite:///:memory:")
    return open_store(url, read_only=True)


def cmd_ingest(args: argparse.Namespace) -> int:
    from syncd.cycle import ingest

    config = _config(args)
    try:
        result = ingest(config, _store(args, config), args.force).result
    except SyncdError as exc:
        exc.exit_code = 1  # ingest exits 0 ok, 1 error, guards included
        raise
    names = ", ".join(source.name for source in config.sources)
    print(f"ingested {names}: {result.summary()}")
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    from syncd.cycle import load_target_mapping, plan_target, preview, select_targets
    from syncd.trace import render_trace, trace_person

    config = _config(args)
    store = _opened(args, _plan_store(config))
    try:
        org = preview(config, store, args.today or date.today())
    except GuardTripped as exc:
        exc.exit_code = 1  # plan exits 0, 2 or 1: a refused snapshot is an error
        raise
    plans, traces = [], []
    for target in select_targets(config, args.target):
        mapping = load_target_mapping(target)
        planned = plan_target(config, store, org, target, mapping=mapping)
        planned.target.close()
        plans.append(planned.plan)
        if args.person:
            traces.append(trace_person(org, planned, mapping, _person_id(store, org,
                                                                         args.person)))
    if args.person:
        _answer(args, "traces", traces, [render_trace(trace) for trace in traces])
    else:
        _answer(args, "plans", [plan.as_dict() for plan in plans],
                [render_summary(plan.as_dict()) if args.summary else _plan_text(plan)
                 for plan in plans])
    if any(plan.errors for plan in plans):
        return 1
    changed = any(plan.changes for plan in plans)
    return 2 if args.detailed_exitcode and changed else 0


def _answer(args: argparse.Namespace, key: str, items: list[dict[str, Any]],
            texts: list[str]) -> None:
    """One answer per target: JSON (under `key` when there are several) or text."""
    if args.json:
        _print_json(items[0] if len(items) == 1 else
                    {"format_version": FORMAT_VERSION, key: items})
    else:
        print("\n\n".join(texts))


def _plan_text(plan: Plan, applied: bool = False) -> str:
    """The plan with alike render problems grouped in one line (`--json` keeps each)."""
    rendered = {str(p) for p in plan.problems}
    grouped = [str(group) for group in group_problems(plan.problems)]
    others = [error for error in plan.errors if error not in rendered]  # the target's word
    return render_text({**plan.as_dict(), "errors": grouped + others}, applied)


def cmd_apply(args: argparse.Namespace) -> int:
    from syncd.cycle import ingest, run_cycle, select_targets

    config = _config(args)
    store = _store(args, config)
    ingest(config, store)
    day = args.today or date.today()
    org = functools.cache(lambda: store.org(day))  # loaded once, by the first that plans
    codes, outcomes = [0], []
    for target in select_targets(config, args.target):
        try:
            outcome = run_cycle(config, store, org, target, day, args.allow_deletes,
                                allow_changes=args.allow_changes, full=args.full,
                                progress=ApplyProgress)
        except SyncdError as exc:
            log.error("target %s: cycle failed: %s", target.name, exc)
            codes.append(1)
            outcomes.append({"target": target.name, "result": "failure", "error": str(exc)})
            continue
        outcomes.append(_outcome_dict(outcome))
        if not args.json:
            if not outcome.unchanged:
                print(_plan_text(outcome.plan, applied=True))
            print(_outcome_line(outcome))
        codes.append(3 if outcome.plan.tripped else
                     1 if outcome.rejected or outcome.plan.errors else 0)
    if args.json:
        _answer(args, "outcomes", outcomes, [])
    return 3 if 3 in codes else max(codes)


def _outcome_dict(outcome: Outcome) -> dict[str, Any]:
    """What `apply --json` prints per target: counts per kind and action, and the plan."""
    refused = Counter(kind for kind, _ in outcome.rejected)
    return {
        "target": outcome.plan.target,
        "result": outcome.result,
        "applied": _by_kind_and_action(outcome.applied),
        "held": _by_kind_and_action(outcome.held),
        "refused": {"by_kind": dict(refused),
                    "messages": [{"kind": kind, "message": message}
                                 for kind, message in outcome.rejected]},
        "not_rendered": len(outcome.plan.errors),
        "follow_ups": outcome.follow_ups,
        "unchanged": outcome.unchanged,
        "left_for_next_cycle": outcome.stopped,
        "guards_tripped": [guard.name for guard in outcome.plan.tripped],
        "plan": outcome.plan.as_dict(),
    }


def _by_kind_and_action(changes: list[Change]) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for change in changes:
        counts[change.kind][change.action.word] += 1
    return {kind: dict(actions) for kind, actions in sorted(counts.items())}


def _outcome_line(outcome: Outcome) -> str:
    if outcome.unchanged:
        return (f"{outcome.plan.target}: unchanged since its last cycle (the store's data, "
                "the target, the day and the config as then): nothing to do; "
                "`syncd apply --full` plans it anyway")
    undone = outcome.undone()
    line = f"{outcome.plan.target}: {outcome.result}" + (f" ({undone})" if undone else "")
    line += f"; applied {len(outcome.applied) - outcome.follow_ups} change(s)"
    if outcome.follow_ups:
        line += (f" and {outcome.follow_ups} follow-up(s) naming what this cycle created "
                 "(members, managers)")
    if outcome.rejected:
        line += f"; {len(outcome.rejected)} refused by the server (retried next cycle):"
        line += "".join(f"\n  {message}" for _, message in outcome.rejected)
    if outcome.plan.tripped:
        names = [guard.name for guard in outcome.plan.tripped]
        flags = " or ".join(dict.fromkeys(
            "--allow-changes N" if name == "attribute_changes" else "--allow-deletes N"
            for name in names))
        line += (f"; guards tripped ({', '.join(names)}): {len(outcome.held)} change(s) held "
                 f"back; run `syncd apply {flags}` to accept them")
    return line


def cmd_run(args: argparse.Namespace) -> int:
    from syncd.cycle import load_checked
    from syncd.daemon.service import Daemon  # the scheduler is only loaded by the daemon

    loaded = load_checked(config_path(args.config))  # mappings too: refuse to start broken
    if not args.verbose:
        logs.configure(loaded.config.logging.level, loaded.config.logging.format)
    return Daemon(config_path(args.config), loaded).run()


def cmd_show(args: argparse.Namespace) -> int:
    config = _config(args)
    store = _opened(args, open_store(config.store.resolved_url(), read_only=True))  # reads
    day = args.today or date.today()
    if args.what == "person":
        data, render = _person_data(store, args.id, day), render_person
    else:
        data, render = unit_card(store.org(day), args.id), render_unit
    if args.json:
        _print_json(data)
    else:
        print(render(data))
    return 0


def _person_data(store: Store, name: str, day: date) -> dict[str, Any]:
    """The card from the person's part of the org (`Store.org_around`), not the whole:
    a few indexed queries, whatever the size of the org."""
    around = store.org_around(name, day)  # `name` is the person's id, or finds none
    person_id = _person_id(store, around, name)
    org = around if person_id == name else store.org_around(person_id, day)
    return person_card(org, person_id, store.person_accounts(person_id),
                       store.person_audit(person_id), store.person_it_users(person_id))


def _person_id(store: Store, org: OrgView, name: str) -> str:
    """A person's id from their id, a username they have in some target, or an email.
    A leaver gone from the org is still found by id while an account remembers them."""
    if name in org.persons or store.person_accounts(name):
        return name
    found = store.find_persons(name)
    if len(found) > 1:
        raise NotFound(f"{name!r} names {len(found)} persons ({', '.join(found)}); "
                       "give the person's id")
    if not found:
        raise NotFound(f"no person with id, username or email {name!r} in the store")
    return found[0]


def cmd_completion(args: argparse.Namespace) -> int:
    print(shtab.complete(args.parser, shell=args.shell))
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
    for group in group_problems(problems):
        print(group, file=out)
        snippet = _source_line(group.first, sources)
        if snippet:
            print(snippet, file=out)
    files = len({p.file for p in problems})
    print(f"{len(problems)} problem(s) in {files} file(s); nothing was written to any target",
          file=out)
    return 1


def _grouped(problems: Sequence[Problem | str]) -> list[str]:
    """Problems alike as one line each; plain messages as they are."""
    alike = group_problems([p for p in problems if isinstance(p, Problem)])
    return [*map(str, alike), *(p for p in problems if not isinstance(p, Problem))]


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
