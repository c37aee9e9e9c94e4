"""What `syncd COMMAND --help` says besides the options: exit codes and examples."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CommandHelp:
    summary: str  # one line, in `syncd --help`
    exits: tuple[tuple[int, str], ...]
    examples: tuple[str, ...]

    def epilog(self) -> str:
        codes = "\n".join(f"  {code}  {meaning}" for code, meaning in self.exits)
        examples = "\n".join(f"  {example}" for example in self.examples)
        return f"exit status:\n{codes}\n\nexamples:\n{examples}"


COMMANDS = {
    "validate": CommandHelp(
        "check the config, every source and every mapping; contacts no target",
        ((0, "valid"), (1, "invalid: every problem as FILE:LINE: path: message")),
        ("syncd validate -c /etc/syncd/config.yaml", "syncd validate --json | jq .problems"),
    ),
    "ingest": CommandHelp(
        "pull every source into the store once",
        ((0, "ingested"), (1, "a source could not be read, or the snapshot was refused")),
        ("syncd ingest", "syncd ingest --force   # take a snapshot that shrinks past the limit"),
    ),
    "plan": CommandHelp(
        "show what apply would change; changes nothing, the store included",
        ((0, "planned (with --detailed-exitcode: nothing to change)"),
         (1, "error: a refused snapshot, an unreachable target, objects that fail to render"),
         (2, "with --detailed-exitcode: there are changes")),
        ("syncd plan", "syncd -c config.yaml plan --target ldap --summary",
         "syncd plan --person p17          # why p17's account looks as it does",
         "syncd plan --json > plan.json"),
    ),
    "apply": CommandHelp(
        "one full cycle: ingest, plan, guard, apply, record",
        ((0, "applied"), (1, "error: some object refused or not rendered, or a target failed"),
         (3, "a guard held changes back")),
        ("syncd apply --target ldap", "syncd apply --allow-deletes 12   # accept 12 this once",
         "syncd apply --json | jq .result"),
    ),
    "run": CommandHelp(
        "the daemon: scheduled cycles, HTTP endpoints, reload on SIGHUP",
        ((0, "stopped cleanly (SIGTERM)"), (1, "could not start: config, mapping or port")),
        ("syncd run -c /etc/syncd/config.yaml", "systemctl reload syncd   # re-read the config"),
    ),
    "show": CommandHelp(
        "the address-book view of a person (by id, username or email) or a unit",
        ((0, "shown"), (1, "no such person or unit, or more than one person matches")),
        ("syncd show person p17", "syncd show person soren@kolding.example --json",
         "syncd show unit skole --today 2027-01-01"),
    ),
    "completion": CommandHelp(
        "print a shell completion script",
        ((0, "printed"),),
        ("syncd completion bash | sudo tee /etc/bash_completion.d/syncd",
         "syncd completion zsh > ~/.zfunc/_syncd"),
    ),
}
