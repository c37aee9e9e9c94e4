"""Loading a config file: YAML with FILE:LINE for every problem, paths made absolute,
the files it names and the environment variables it reads checked, all in one pass, so
a sysadmin fixes a config in one go."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

from syncd.config.model import Config
from syncd.errors import ConfigError, Problem
from syncd.sources.registry import SOURCE_TYPES
from syncd.yamlfile import DataPath, YamlDoc, load_yaml
from syncd.yamlmodel import validate_model

DEFAULT_CONFIG_PATH = Path("/etc/syncd/config.yaml")


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


_PATH_KEYS = {"path", "password_file", "token_file", "tls_ca_file", "mapping", "folder",
              "htpasswd", "client_secret_file", "session_secret_file"}
_SECRET_FILE_KEYS = ("password_file", "token_file", "client_secret_file", "session_secret_file",
                     "htpasswd")  # the password file holds hashes: not for everyone either


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
        kind = SOURCE_TYPES.get(str(item.get("type")))
        for key in kind.config_model.local_paths if kind else ():
            if key not in _SECRET_FILE_KEYS:  # those are checked, missing too, by _secrets
                problems += _must_exist(doc, (*base, key), item.get(key))
        problems += _secrets(doc, base, item)  # password_file:, client_secret_file:
        for key, value in item.items():
            if isinstance(value, dict) and key != "kinds":  # bearer:, basic:
                problems += _secrets(doc, (*base, key), value)
    if isinstance(data.get("http"), dict):
        problems += _secrets(doc, ("http",), data["http"])
    if isinstance(data.get("web"), dict):
        problems += _secrets(doc, ("web",), data["web"])
        if isinstance(data["web"].get("oidc"), dict):
            problems += _secrets(doc, ("web", "oidc"), data["web"]["oidc"])
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
    return [problem for key in _SECRET_FILE_KEYS
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
