"""The typed configuration, validated on load, with FILE:LINE for every problem.

The pydantic models below are the single description of what a config may hold: unknown
keys are errors (with a did-you-mean), secrets are only ever read from a file or the
environment, and relative paths are taken relative to the config file. `load_config`
collects every problem before it raises, so a sysadmin fixes a config in one pass.
"""

from __future__ import annotations

import codecs
import difflib
import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import quote, urlsplit

from croniter import CroniterError, croniter
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from syncd.dateformat import check_date_format
from syncd.errors import ConfigError, InvalidDn, Problem, SyncdError
from syncd.objects import parse_dn
from syncd.org import KINDS, field_names, field_specs
from syncd.yamlfile import DataPath, YamlDoc, format_path, load_yaml
from syncd.yamlmodel import validate_model

DEFAULT_CONFIG_PATH = Path("/etc/syncd/config.yaml")
ENV_REF = re.compile(r"^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$")
if TYPE_CHECKING:  # a Literal built at run time is no type to mypy; pydantic checks the names
    KindName = str
else:
    KindName = Literal[tuple(KINDS)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _one_secret(model: BaseModel, key: str) -> None:
    """A secret comes from `<key>_file` or `<key>: ${env:NAME}`: exactly one of them."""
    if (getattr(model, f"{key}_file") is None) == (getattr(model, key) is None):
        raise ValueError(f"give exactly one of {key}_file or {key} (${{env:NAME}})")


def _env_ref_only(value: str | None) -> str | None:
    """A secret key may only name an environment variable, never hold the secret."""
    if value is not None and not ENV_REF.match(value):
        raise ValueError("secrets are never inline: use ${env:NAME} or the *_file key")
    return value


UPN = re.compile(r"^[^@\s=,]+@[^@\s=,]+$")


def _dn_syntax(value: str) -> str:
    """An LDAP DN (RFC 4514), so a typo is found by validate, not by the server."""
    try:
        parse_dn(value)
    except InvalidDn as exc:
        raise ValueError(f"{exc}; want e.g. dc=example,dc=org") from None
    return value


def read_secret(file: Path | None, env_ref: str | None, *, what: str) -> SecretStr:
    """The secret's value, read when it is needed and never kept in the config.

    Raises SyncdError naming `what` and where the secret should have come from
    (never its value) when the file cannot be read or the secret is empty.
    """
    if file is not None:
        try:
            value = file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SyncdError(f"{what}: cannot read {file}: {exc.strerror}") from None
    elif env_ref is not None:
        match = ENV_REF.match(env_ref)
        assert match  # checked on load
        value = os.environ.get(match.group(1), "")
    else:
        raise SyncdError(f"{what}: no secret configured")
    if not value:
        raise SyncdError(f"{what}: the secret is empty ({file or f'{env_ref} is not set'})")
    return SecretStr(value)


# --- sources -------------------------------------------------------------------------


class FieldMapping(Model):
    """How one kind's records are read from a foreign export (CSV columns, JSON keys)."""

    fields: dict[str, str] = Field(
        default_factory=dict, description="record field -> column or key in the export"
    )
    defaults: dict[str, Any] = Field(
        default_factory=dict, description="record field -> constant when the export lacks it"
    )
    extra: dict[str, str] = Field(
        default_factory=dict, description="name under `extra` -> column or key in the export"
    )
    date_format: str | None = Field(None, description="strptime format, e.g. %d-%m-%Y")
    values: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="record field -> {export's word: record value}, "
                                          "e.g. {visibility: {Offentlig: public}}"
    )

    @field_validator("date_format")
    @classmethod
    def _date_format(cls, value: str | None) -> str | None:
        return value if value is None else check_date_format(value)


class SnapshotSource(Model):
    name: str
    type: Literal["snapshot"]
    path: Path = Field(description="a JSON or YAML org snapshot (docs/snapshot.md)")


def _known_fields(kinds: dict[str, FieldMapping]) -> dict[str, FieldMapping]:
    """Field mappings may only name fields that the kind has (docs/snapshot.md)."""
    for kind, mapping in kinds.items():
        known = field_names(kind)
        for name in [*mapping.fields, *mapping.defaults, *mapping.values]:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(known)})"
                raise ValueError(f"kinds.{kind}: {name!r} is not a field of {kind}{hint}")
        _known_values(kind, mapping.values)
    return kinds


def _known_values(kind: str, values: dict[str, dict[str, str]]) -> None:
    """A value map onto a field with fixed choices must map onto those choices."""
    specs = {spec.name: spec for spec in field_specs(kind)}
    for name, table in values.items():
        for word, value in table.items():
            if problem := specs[name].choice_problem(value):
                raise ValueError(f"kinds.{kind}.values.{name}: {word}: {problem}")


class CsvKind(FieldMapping):
    file: str = Field(description="the CSV file of this kind, inside the source's folder")


class CsvSource(Model):
    name: str
    type: Literal["csv"]
    path: Path = Field(description="folder holding one CSV file per kind")
    encoding: str = "utf-8"
    delimiter: str = ","
    date_format: str = "%Y-%m-%d"
    true_values: list[str] = ["1", "true", "yes", "ja", "j", "x"]
    list_separator: str = "|"
    kinds: dict[KindName, CsvKind]

    _fields = field_validator("kinds")(_known_fields)
    _date_format = field_validator("date_format")(check_date_format)

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, value: str) -> str:
        if len(value) != 1:
            raise ValueError(f"must be one character, got {value!r}")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}; e.g. utf-8, cp1252 (Excel on "
                             "Windows) or latin-1") from None
        return value


class HttpKind(FieldMapping):
    path: str = Field(description="URL path (relative to base_url) of this kind's records")
    items: str | None = Field(None, description="key holding the list in each page, e.g. results")


class BearerAuth(Model):
    token_file: Path | None = None
    token: str | None = None

    _env = field_validator("token")(_env_ref_only)

    @model_validator(mode="after")
    def _secret(self) -> BearerAuth:
        _one_secret(self, "token")
        return self


class BasicAuth(Model):
    username: str
    password_file: Path | None = None
    password: str | None = None

    _env = field_validator("password")(_env_ref_only)

    @model_validator(mode="after")
    def _secret(self) -> BasicAuth:
        _one_secret(self, "password")
        return self


class Pagination(Model):
    style: Literal["none", "next_link", "page"] = "none"
    next_field: str = Field("next", description="next_link: key of the next page's URL")
    page_param: str = "page"
    size_param: str | None = None
    page_size: int = Field(500, gt=0)
    first_page: int = 1


class HttpSource(Model):
    name: str
    type: Literal["http"]
    base_url: str
    kinds: dict[KindName, HttpKind]

    _fields = field_validator("kinds")(_known_fields)
    _date_format = field_validator("date_format")(check_date_format)
    bearer: BearerAuth | None = None
    basic: BasicAuth | None = None
    pagination: Pagination = Pagination()
    date_format: str = "%Y-%m-%d"
    true_values: list[str] = ["1", "true", "yes", "ja", "j", "x"]
    timeout: float = Field(30.0, gt=0, description="seconds per request")
    retries: int = Field(2, ge=0, description="extra attempts on connect errors and 5xx")
    tls_verify: bool = True
    tls_ca_file: Path | None = None

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        """Credentials first, whatever the scheme; and no message echoes the URL."""
        scheme, found, rest = value.partition("://")
        if "@" in (rest if found else value).split("/", 1)[0]:
            raise ValueError("credentials do not belong in the URL: use bearer or basic")
        if scheme not in ("http", "https") or not found:
            got = f"{scheme}://" if found else "no scheme"
            raise ValueError(f"must start with http:// or https://, got {got}")
        return value

    @model_validator(mode="after")
    def _one_auth(self) -> HttpSource:
        if self.bearer and self.basic:
            raise ValueError("give at most one of bearer or basic")
        return self


Source = Annotated[SnapshotSource | CsvSource | HttpSource, Field(discriminator="type")]


# --- targets -------------------------------------------------------------------------


class LdapTarget(Model):
    name: str
    type: Literal["ldap"]
    flavour: Literal["openldap", "ad"] = "openldap"
    url: str
    start_tls: bool = False
    tls_verify: bool = True
    tls_ca_file: Path | None = None
    bind_dn: str
    password_file: Path | None = None
    password: str | None = None
    base_dn: str
    mapping: Path
    timeout: float = Field(10.0, gt=0, description="seconds to connect, and per operation")
    retries: int = Field(2, ge=0, description="extra attempts when the connection fails")
    vars: dict[str, Any] = Field(
        default_factory=dict, description="values the mapping's templates can read"
    )
    schedule: Schedule | None = Field(None, description="this target's own; else the global")

    _env = field_validator("password")(_env_ref_only)
    _base_dn = field_validator("base_dn")(_dn_syntax)

    @field_validator("bind_dn")
    @classmethod
    def _bind_dn(cls, value: str, info: ValidationInfo) -> str:
        """Active Directory also binds as a user principal name (svc-syncd@example.org)."""
        if not UPN.match(value):
            return _dn_syntax(value)
        if info.data.get("flavour") != "ad":
            raise ValueError(f"{value!r} is a user principal name, which only Active Directory "
                             "takes (flavour: ad); OpenLDAP binds with a DN, like "
                             "cn=syncd,dc=example,dc=org")
        return value

    @field_validator("url")
    @classmethod
    def _ldap_url(cls, value: str) -> str:
        """Checked for credentials first: a URL with a password in it is never echoed."""
        if "@" in urlsplit(value).netloc:
            raise ValueError("a URL with credentials in it is refused: the password would "
                             "show in logs and errors; bind with bind_dn and password_file "
                             "(or password: ${env:NAME})")
        if not value.startswith(("ldap://", "ldaps://", "ldapi://")):
            raise ValueError(f"must start with ldap://, ldaps:// or ldapi://, got {value!r}")
        return value

    @model_validator(mode="after")
    def _secret(self) -> LdapTarget:
        _one_secret(self, "password")
        if self.flavour == "ad":
            raise ValueError("flavour ad (Active Directory) is not supported by this version "
                             "of syncd yet (the keys are checked so that the config keeps "
                             "working later)")
        return self


class ScimTarget(Model):
    name: str
    type: Literal["scim"]
    url: str
    token_file: Path | None = None
    token: str | None = None
    tls_verify: bool = True
    tls_ca_file: Path | None = None
    mapping: Path
    vars: dict[str, Any] = Field(default_factory=dict)
    schedule: Schedule | None = None

    _env = field_validator("token")(_env_ref_only)

    @model_validator(mode="after")
    def _secret(self) -> ScimTarget:
        _one_secret(self, "token")
        raise ValueError("SCIM targets are not supported by this version of syncd yet "
                         "(the keys are checked so that the config keeps working later)")


Target = Annotated[LdapTarget | ScimTarget, Field(discriminator="type")]


# --- the rest ------------------------------------------------------------------------


class StoreConfig(Model):
    url: str = Field(
        "sqlite:////var/lib/syncd/store.db",
        description="SQLAlchemy URL; a relative sqlite path is relative to the config file; "
                    "a password only as ${env:NAME}",
    )

    @field_validator("url")
    @classmethod
    def _no_inline_password(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError("not a database URL (like sqlite:////var/lib/syncd/store.db or "
                             "postgresql+psycopg://syncd@db/syncd)") from None
        if url.password is not None:
            _env_ref_only(str(url.password))
        if any("password" in key.lower() or key.lower() == "dsn" for key in url.query):
            raise ValueError("secrets are never inline: the password goes in the URL as "
                             "${env:NAME}")
        return value

    def resolved_url(self) -> str:
        """The URL with a ${env:NAME} password filled in (never logged)."""
        match = re.search(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}", self.url)
        if not match:
            return self.url
        return self.url.replace(match.group(0), quote(os.environ.get(match.group(1), ""), safe=""))


class Safety(Model):
    """The guards' limits (see syncd.plan.guards for what each one holds back)."""

    max_deletes: int = Field(50, ge=0)
    max_delete_ratio: float = Field(0.1, ge=0, le=1)
    source_max_shrink: float = Field(0.1, ge=0, le=1)
    max_attribute_changes: int = Field(50, ge=0)
    max_attribute_change_ratio: float = Field(0.2, ge=0, le=1)
    hold_all_when_tripped: bool = False


DURATION = re.compile(r"^(\d+)(s|m|h|d)$")


_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
CRON_ALIASES = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight",
                "@hourly")


def check_crontab(line: str) -> None:
    """Raise ValueError unless `line` is a crontab(5) schedule: five fields or an alias."""
    fields = line.split()
    if line.startswith("@"):
        if line.strip() not in CRON_ALIASES:
            raise ValueError(f"{line.strip()!r} is not one of {', '.join(CRON_ALIASES)}")
        return
    if len(fields) != 5:
        raise ValueError(f"want 5 fields (minute hour day month weekday), got {len(fields)}")
    try:
        croniter(line).get_next()  # also a date that never comes, like 0 0 31 2 *
    except (CroniterError, ValueError) as exc:
        raise ValueError(str(exc).replace(f"[{line}] ", "")) from None


def seconds(duration: str) -> int:
    """``15m`` -> 900 (the format is checked on load)."""
    match = DURATION.match(duration)
    assert match
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


class Schedule(Model):
    """When a target's cycles run: every `interval`, or on a crontab line (`cron` wins)."""

    interval: str = "15m"
    cron: str | None = Field(None, description="a crontab(5) line in UTC, like `0 6 * * 1-5`, "
                                               "or @hourly, @daily, @weekly, @monthly, @yearly")
    jitter: str = Field("0s", description="a random delay up to this, so sites spread out")

    @field_validator("interval", "jitter")
    @classmethod
    def _duration(cls, value: str) -> str:
        if not DURATION.match(value):
            raise ValueError(f"must be a number and a unit (s, m, h, d), like 15m; got {value!r}")
        return value

    @field_validator("cron")
    @classmethod
    def _crontab(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                check_crontab(value)
            except ValueError as exc:
                raise ValueError(f"not a crontab line ({exc}): {value!r}") from None
        return value

    @property
    def interval_seconds(self) -> int:
        return seconds(self.interval)


class HttpConfig(Model):
    listen: str = Field("127.0.0.1:9464", description="HOST:PORT, or [IPv6]:PORT")
    token_file: Path | None = None

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"must be HOST:PORT like 127.0.0.1:9464 or [::1]:9464, "
                             f"got {value!r}")
        return value


class LoggingConfig(Model):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["plain", "json"] = "plain"


class Config(Model):
    store: StoreConfig = StoreConfig()
    sources: list[Source] = Field(min_length=1)
    targets: list[Target] = Field(default_factory=list)
    safety: Safety = Safety()
    schedule: Schedule = Schedule()
    http: HttpConfig = HttpConfig()
    logging: LoggingConfig = LoggingConfig()

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        for what, items in (("sources", self.sources), ("targets", self.targets)):
            names = [item.name for item in items]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{what}: names must be unique, repeated: {', '.join(dupes)}")
        return self


# --- loading -------------------------------------------------------------------------


def config_path(given: str | None) -> Path:
    """-c/--config, else $SYNCD_CONFIG, else /etc/syncd/config.yaml."""
    return Path(given or os.environ.get("SYNCD_CONFIG") or DEFAULT_CONFIG_PATH)


def load_config(path: Path) -> Config:
    """Parse, validate and resolve `path`; raise ConfigError listing every problem."""
    doc = load_yaml(path)
    if not isinstance(doc.data, dict):
        raise ConfigError([doc.problem((), "the config must be a mapping of keys")])
    data = _resolve_paths(doc.data, path.parent)
    problems = _check_files(data, doc) + _check_env(data, doc)
    try:
        config = validate_model(doc, Config, data)
    except ConfigError as exc:
        problems += exc.problems
    if problems:
        raise ConfigError(sorted(problems, key=lambda p: p.line or 0))
    return config


_PATH_KEYS = {"path", "password_file", "token_file", "tls_ca_file", "mapping"}


def _resolve_paths(data: Any, base: Path) -> Any:
    """Make every path-valued key absolute, relative to the config file's folder.

    `kinds` is left alone: there `path` is an HTTP source's URL path, not a file.
    """
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            if key == "kinds":
                out[key] = value
            elif key in _PATH_KEYS and isinstance(value, str) and "://" not in value:
                out[key] = str(base / value) if not os.path.isabs(value) else value
            else:
                out[key] = _resolve_paths(value, base)
        if isinstance(out.get("url"), str):
            out["url"] = _resolve_sqlite(out["url"], base)
        return out
    if isinstance(data, list):
        return [_resolve_paths(item, base) for item in data]
    return data


def _resolve_sqlite(url: str, base: Path) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix:
        return prefix + str((base / url[len(prefix):]).resolve())
    return url


def _check_files(data: dict[str, Any], doc: YamlDoc) -> list[Problem]:
    """Files the config names must exist; secret files must not be readable by others.

    Runs on the raw (path-resolved) data, so these problems are reported together with
    the schema's, in one pass.
    """
    problems: list[Problem] = []
    for base, item in _items(data, "targets"):
        problems += _must_exist(doc, (*base, "mapping"), item.get("mapping"))
        problems += _secrets(doc, base, item)
    for base, item in _items(data, "sources"):
        if item.get("type") in ("snapshot", "csv"):
            problems += _must_exist(doc, (*base, "path"), item.get("path"))
        for auth in ("bearer", "basic"):
            if isinstance(item.get(auth), dict):
                problems += _secrets(doc, (*base, auth), item[auth])
    if isinstance(data.get("http"), dict):
        problems += _secrets(doc, ("http",), data["http"])
    return problems


_ENV_KEYS = {"password", "token", "url"}  # where a ${env:NAME} secret may be
_ENV_NAME = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")


def _check_env(data: Any, doc: YamlDoc, path: DataPath = ()) -> list[Problem]:
    """Every ${env:NAME} a secret key names must be set, so a missing one is found on
    load (validate, a reload) rather than by the first cycle. Values are never shown."""
    if isinstance(data, list):
        return [p for i, item in enumerate(data) for p in _check_env(item, doc, (*path, i))]
    if not isinstance(data, dict):
        return []
    problems = []
    for key, value in data.items():
        if key in _ENV_KEYS and isinstance(value, str):
            problems += [doc.problem((*path, key), _env_problem(name))
                         for name in _ENV_NAME.findall(value) if not os.environ.get(name)]
        else:
            problems += _check_env(value, doc, (*path, key))
    return problems


def _env_problem(name: str) -> str:
    state = "empty" if name in os.environ else "not set"
    return f"environment variable {name} is {state}"


def _items(data: dict[str, Any], key: str) -> list[tuple[DataPath, dict[str, Any]]]:
    items = data.get(key)
    if not isinstance(items, list):
        return []
    return [((key, i), item) for i, item in enumerate(items) if isinstance(item, dict)]


def _secrets(doc: YamlDoc, base: DataPath, item: dict[str, Any]) -> list[Problem]:
    return [problem for key in ("password_file", "token_file")
            if isinstance(item.get(key), str)
            for problem in _secret_file(doc, (*base, key), Path(item[key]))]


def _must_exist(doc: YamlDoc, path: DataPath, file: str | None) -> list[Problem]:
    if not isinstance(file, str) or Path(file).exists():
        return []
    return [doc.problem(path, f"{file}: no such file or folder")]


def _secret_file(doc: YamlDoc, path: DataPath, file: Path) -> list[Problem]:
    try:
        mode = stat.S_IMODE(file.stat().st_mode)
    except OSError as exc:
        return [doc.problem(path, f"{file}: {exc.strerror}")]
    if mode & stat.S_IROTH:
        return [doc.problem(path, f"{file.name} is readable by others ({mode:04o}), "
                                  "want 0640 or less")]
    return []


__all__ = [
    "Config",
    "CsvSource",
    "HttpSource",
    "LdapTarget",
    "ScimTarget",
    "SnapshotSource",
    "config_path",
    "format_path",
    "load_config",
    "read_secret",
]
