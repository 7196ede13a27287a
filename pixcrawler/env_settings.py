"""`PIXCRAWLER_<KEY>` environment variables, parsed as the type of the setting they set.

Every value in the environment is text, and `bool("False")` is True: a setting typed as a
boolean must not be turned on by the word that means off. So each key's type comes from the
config class: its annotation (`SECRET_KEY: str | None`), else its default value, whether
`Config` sets it or Flask does (`SESSION_COOKIE_SECURE = False`, `PERMANENT_SESSION_LIFETIME`).
A new typed class attribute is parsed the same way, with no code here.

A value that does not fit its type stops the app with one line naming the variable
(ConfigError). Numbers, durations included, are never negative here. A key with no known
type (an extension's, say `SQLALCHEMY_ECHO`) is a boolean when it spells one, else JSON when
it parses, else text.
"""

from __future__ import annotations

import json
import math
import os
import types
import typing
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, NewType

from pixcrawler.database.urls import ConfigError

PREFIX = "PIXCRAWLER_"

# A duration in seconds, as a number: `5`, `0.5`. Annotate a setting with it (`KEY: Seconds = 5`).
Seconds = NewType("Seconds", float)

TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
FALSE_WORDS = frozenset({"false", "no", "off", "0"})
BOOLEAN_SPELLINGS = "true or false (also yes/no, on/off, 1/0, in any case)"

# PIXCRAWLER_ variables that are not config keys: PIXCRAWLER_ENV picks the config class, and
# createsuperuser reads the two SUPERUSER ones itself (a password has no business in config).
NOT_SETTINGS = frozenset({"ENV", "SUPERUSER_EMAIL", "SUPERUSER_PASSWORD"})


def load_prefixed_env(
    config: dict[str, Any], config_class: type, environ: Mapping[str, str] | None = None
) -> None:
    """Set every `PIXCRAWLER_<KEY>` of `environ` in `config`, parsed as KEY's type.

    `KEY__item` sets one item of a dict setting, as Flask's `from_prefixed_env` does.
    """
    environ = os.environ if environ is None else environ
    hints = setting_types(config_class)
    for variable in sorted(environ):
        if not variable.startswith(PREFIX) or variable[len(PREFIX) :] in NOT_SETTINGS:
            continue
        key = variable[len(PREFIX) :]
        *parents, leaf = key.split("__")
        target = config
        for part in parents:
            inner = target.get(part)
            if inner is not None and not isinstance(inner, dict):
                raise ConfigError(f"{variable}: {part} is not a mapping of settings")
            # A copy: the default dict belongs to the config class, shared by every app.
            target[part] = dict(inner or {})
            target = target[part]
        hint = hints.get(key) if not parents else None
        if hint is None and leaf in target and target[leaf] is not None:
            hint = type(target[leaf])
        target[leaf] = parse(variable, environ[variable], hint)


def setting_types(config_class: type) -> dict[str, Any]:
    """The annotated type of every upper-case setting of `config_class` and its parents."""
    hints = typing.get_type_hints(config_class)
    return {key: _unwrap_classvar(hint) for key, hint in hints.items() if key.isupper()}


def _unwrap_classvar(hint: Any) -> Any:
    if typing.get_origin(hint) is typing.ClassVar:
        (hint,) = typing.get_args(hint)
    return hint


def parse(variable: str, text: str, hint: Any) -> Any:
    """`text` as a value of type `hint` (None: not known); ConfigError names `variable`."""
    if hint is None:
        return _untyped(text)
    kind, optional = _kind(hint)
    if optional and not text.strip():
        return None
    parser = PARSERS.get(kind)
    if parser is None:  # a type we have no text form for: the value as written
        return text
    try:
        return parser(text)
    except ValueError as exc:
        shown = text if len(text) <= 40 else text[:39] + "…"
        raise ConfigError(f"{variable} must be {exc}, not {shown!r}") from None


def _kind(hint: Any) -> tuple[Any, bool]:
    """The one type a setting holds, and whether None is allowed too."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        kinds = [arg for arg in args if arg is not type(None)]
        return _kind(kinds[0])[0], len(kinds) < len(args)
    origin = typing.get_origin(hint)
    return (origin or hint), False


def _untyped(text: str) -> Any:
    """An extension's key, whose type is not known: a boolean word, else JSON, else text."""
    word = text.strip().lower()
    if word in TRUE_WORDS - {"1"}:
        return True
    if word in FALSE_WORDS - {"0"}:
        return False
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_bool(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(BOOLEAN_SPELLINGS)


def parse_count(text: str) -> int:
    try:
        number = int(text.strip(), 10)
    except ValueError:
        number = -1
    if number < 0:
        raise ValueError("a whole number (>= 0)")
    return number


def _non_negative(text: str, expected: str) -> float:
    try:
        number = float(text.strip())
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < 0:
        raise ValueError(expected)
    return number


def parse_number(text: str) -> float:
    return _non_negative(text, "a number (>= 0)")


def parse_seconds(text: str) -> int | float:
    number = _non_negative(text, "a number of seconds (>= 0)")
    return int(number) if number.is_integer() else number


def parse_duration(text: str) -> timedelta:
    return timedelta(seconds=_non_negative(text, "a number of seconds (>= 0)"))


def _json_of(kind: type, expected: str) -> Callable[[str], Any]:
    def parse_json(text: str) -> Any:
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if not isinstance(value, kind):
            raise ValueError(expected)
        return value

    return parse_json


PARSERS: dict[Any, Callable[[str], Any]] = {
    bool: parse_bool,
    int: parse_count,
    float: parse_number,
    Seconds: parse_seconds,
    timedelta: parse_duration,
    str: str,
    list: _json_of(list, "a JSON list"),
    dict: _json_of(dict, "a JSON object"),
}
