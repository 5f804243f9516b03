"""One declarative parameter spec per agent: typing, defaults, validation.

From the same Param objects come the meta-data XML (ocflib.metadata), the
parsing of OCF_RESKEY_* into typed values (parse_params) and validation
that reports every problem at once.
"""

from __future__ import annotations

from ocflib.env import OCF_TRUE, parse_bool
from ocflib.exitcodes import OCF

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Generic, TypeVar

    from ocflib.ipaddr import IPAddr

    # Covariant: a Param[int] is usable where a Param[object] is expected
    # (an agent's list of all its parameters).
    T_co = TypeVar("T_co", covariant=True)
    V = TypeVar("V")

    class _Generic(Generic[T_co]):
        pass

else:
    T_co = None
    V = None

    class _Generic:
        def __class_getitem__(cls, item):
            return cls


NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-"

__all__ = [
    "Kind",
    "String",
    "Integer",
    "Boolean",
    "Time",
    "Select",
    "IPAddress",
    "Path",
    "Port",
    "Fallback",
    "Seconds",
    "Version",
    "Param",
    "Config",
    "Problem",
    "parse_params",
]


class Fallback(ValueError):
    """A value that is not valid but that the shell agent accepts all the same:
    parsing goes on with value (what the shell agent makes of it) and the
    reason is logged as a warning, so a configuration that works with the
    shell agent keeps working (drop-in) and the administrator learns why."""

    def __init__(self, reason: str, value: object) -> None:
        super().__init__(reason)
        self.value = value


class Kind(_Generic[T_co]):
    """How a parameter's text becomes a typed value.

    parse raises ValueError with a human reason; ocf_type is the meta-data
    content type (the DTD and metadata.rng agree on string, integer, boolean).
    """

    ocf_type = "string"

    def parse(self, text: str) -> T_co:
        raise NotImplementedError

    def describe(self) -> str:
        """A phrase for the meta-data, e.g. 'an integer from 1 to 65535'."""
        return ""


class String(Kind[str]):
    """Any text; optionally limited in length, forbidden or allowed characters."""

    def __init__(
        self, *, max_len: int | None = None, forbid: str = "\0\n", allowed: str | None = None
    ) -> None:
        self.max_len = max_len
        self.forbid = forbid
        self.allowed = None if allowed is None else frozenset(allowed)

    def parse(self, text: str) -> str:
        allowed = self.allowed
        bad = sorted({c for c in text if c in self.forbid or (allowed and c not in allowed)})
        if bad:
            raise ValueError("contains forbidden characters " + ", ".join(map(repr, bad)))
        if self.max_len is not None and len(text) > self.max_len:
            raise ValueError(f"is longer than {self.max_len} characters")
        return text


class Integer(Kind[int]):
    """A decimal integer, optionally bounded."""

    ocf_type = "integer"

    def __init__(self, *, min: int | None = None, max: int | None = None) -> None:
        self.min = min
        self.max = max

    def parse(self, text: str) -> int:
        stripped = text.strip()
        body = stripped[1:] if stripped[:1] in "+-" else stripped
        if not body.isdigit() or not body.isascii():
            raise ValueError("is not an integer")
        value = int(stripped)
        if self.min is not None and value < self.min:
            raise ValueError(f"must be at least {self.min}")
        if self.max is not None and value > self.max:
            raise ValueError(f"must be at most {self.max}")
        return value

    def describe(self) -> str:
        if self.min is not None and self.max is not None:
            return f"an integer from {self.min} to {self.max}"
        if self.min is not None:
            return f"an integer of at least {self.min}"
        return ""


class Port(Integer):
    """A TCP/UDP port number."""

    def __init__(self) -> None:
        super().__init__(min=1, max=65535)


class Boolean(Kind[bool]):
    """A boolean with exactly the shell agents' meaning: true is what their
    ocf_is_true accepts (yes, true, 1, on, ja and some capitalisations), false
    everything else. A false that looks meant as true ('Yes', 'y', 'On') or
    is no boolean at all gets a warning (strict=True: an error instead)."""

    ocf_type = "boolean"

    def __init__(self, *, strict: bool = False) -> None:
        self.strict = strict

    def parse(self, text: str) -> bool:
        text = text.strip()
        if text in OCF_TRUE:
            return True
        value = parse_bool(text)
        if value is False:
            return False
        if self.strict:
            raise ValueError("is not a boolean (use true or false)")
        if value is True:
            raise Fallback(
                "is false for the shell agents' ocf_is_true, so it is false here too (write true)",
                False,
            )
        raise Fallback(
            "is not a boolean; taken as false, as the shell agents' ocf_is_true "
            "does (use true or false)",
            False,
        )


_TIME_UNITS = {
    "ms": 1,
    "msec": 1,
    "us": 0.001,
    "usec": 0.001,
    "s": 1000,
    "sec": 1000,
    "m": 60000,
    "min": 60000,
    "h": 3600000,
    "hr": 3600000,
}


class Time(Kind[int]):
    """A duration in Pacemaker's syntax (30s, 1m, 500ms, a bare number of
    seconds), parsed to milliseconds."""

    def __init__(self, *, bare_unit_ms: int = 1000) -> None:
        self.bare_unit_ms = bare_unit_ms

    def parse(self, text: str) -> int:
        stripped = text.strip().lower()
        number = stripped.rstrip("abcdefghijklmnopqrstuvwxyz").strip()
        unit = stripped[len(number) :].strip() if number else ""
        if not number or not number.replace(".", "", 1).isdigit() or not number.isascii():
            raise ValueError("is not a duration (e.g. 30s, 1m, 500ms)")
        scale = self.bare_unit_ms if not unit else _TIME_UNITS.get(unit)
        if scale is None:
            raise ValueError(f"has an unknown time unit {unit!r}")
        return int(float(number) * scale + 0.5)


class Seconds(Kind[float]):
    """A number of seconds (fractions allowed), within bounds."""

    def __init__(self, *, min: float = 0.0, max: float | None = None) -> None:
        self.min = min
        self.max = max

    def parse(self, text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise ValueError("must be a number of seconds") from None
        import math

        if math.isnan(value) or value < self.min or (self.max is not None and value > self.max):
            bounds = f"{self.min:g}-{self.max:g}" if self.max is not None else f">= {self.min:g}"
            raise ValueError(f"must be a number of seconds ({bounds})")
        return value


class Version(Kind["tuple[int, int, int]"]):
    """A version number x.y.z, as a tuple that compares correctly."""

    def parse(self, text: str) -> tuple[int, int, int]:
        parts = text.strip().split(".")
        if len(parts) != 3 or not all(p.isdigit() and p.isascii() for p in parts):
            raise ValueError("is not x.y.z")
        return int(parts[0]), int(parts[1]), int(parts[2])


class Select(Kind[str]):
    """One of a fixed set of words (rendered as a string with the choices in
    the description, since ocf-tester's DTD has no select type)."""

    def __init__(
        self, *choices: str, ignore_case: bool = False, fallback: str | None = None
    ) -> None:
        self.choices = choices
        self.ignore_case = ignore_case
        self.fallback = fallback

    def parse(self, text: str) -> str:
        value = text.strip()
        for choice in self.choices:
            if value == choice or (self.ignore_case and value.lower() == choice.lower()):
                return choice
        shown = ", ".join(repr(c) for c in self.choices if c)
        if self.fallback is not None:
            raise Fallback(
                f"is not one of {shown}; {self.fallback!r} is used, as the shell agent does",
                self.fallback,
            )
        raise ValueError(f"must be one of {shown}")

    def describe(self) -> str:
        return "one of: " + ", ".join(c for c in self.choices if c)


class IPAddress(Kind["IPAddr"]):
    """An IPv4 or IPv6 address, canonicalised as iproute2 prints it."""

    def __init__(self, *, version: int | None = None) -> None:
        self.version = version

    def parse(self, text: str) -> IPAddr:
        from ocflib.ipaddr import parse_ip

        addr = parse_ip(text)
        if self.version is not None and addr.version != self.version:
            raise ValueError(f"is not an IPv{self.version} address")
        return addr


class Path(Kind[str]):
    """A file system path: absolute (by default), no NUL or newline, no '..'.
    command=True also accepts a bare command name (no '/'), which the agent
    looks up in PATH as the shell agents do."""

    def __init__(
        self, *, absolute: bool = True, allow_dotdot: bool = False, command: bool = False
    ) -> None:
        self.absolute = absolute
        self.allow_dotdot = allow_dotdot
        self.command = command

    def parse(self, text: str) -> str:
        if "\0" in text or "\n" in text:
            raise ValueError("contains a NUL or newline character")
        if self.command and text and "/" not in text:
            return text
        if self.absolute and not text.startswith("/"):
            raise ValueError(
                "must be an absolute path" + (" or a command name" if self.command else "")
            )
        if not self.allow_dotdot and ".." in text.split("/"):
            raise ValueError("must not contain '..' components")
        return text


class Param(_Generic[T_co]):
    """One instance parameter: its name, kind, default and documentation.

    default is the text a user would write (it is what meta-data shows and
    is parsed like a user's value). secret values never reach logs or exit
    reasons. hidden parameters are accepted but not advertised (deprecated
    aliases such as IPaddr2's netmask). aliases are older names read when
    this name is unset.
    """

    __slots__ = (
        "name",
        "kind",
        "shortdesc",
        "longdesc",
        "default",
        "required",
        "enforced",
        "unique",
        "secret",
        "hidden",
        "aliases",
        "advertised_default",
    )

    def __init__(
        self,
        name: str,
        kind: Kind[T_co],
        *,
        shortdesc: str,
        longdesc: str = "",
        default: str | None = None,
        required: bool = False,
        enforced: bool = True,
        unique: bool = False,
        secret: bool = False,
        hidden: bool = False,
        aliases: tuple[str, ...] = (),
        advertised_default: str | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.shortdesc = shortdesc
        self.longdesc = longdesc or shortdesc
        self.default = default
        self.required = required
        # required in the meta-data (as the shell agent declares it), but an unset
        # value is not an error when enforced is False (the shell agent copes too)
        self.enforced = enforced
        self.unique = unique
        self.secret = secret
        self.hidden = hidden
        self.aliases = aliases
        # What meta-data shows when it differs from the parsed default
        # (e.g. a host-dependent default computed at run time).
        self.advertised_default = advertised_default

    def __repr__(self) -> str:
        return f"Param({self.name!r})"


class Problem:
    """One validation finding: the exit code it calls for and a sentence."""

    __slots__ = ("rc", "message")

    def __init__(self, message: str, rc: OCF = OCF.ERR_CONFIGURED) -> None:
        self.rc = rc
        self.message = message

    def __repr__(self) -> str:
        return f"Problem({self.message!r}, rc={int(self.rc)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Problem) and other.rc == self.rc and other.message == self.message

    __hash__ = None  # type: ignore[assignment]


class Config:
    """The typed parameter values of one invocation.

    cfg[P] is P's value (its default when unset; None when there is none);
    cfg.is_set(P) tells whether the user gave it; cfg.raw(P) is the text.
    """

    __slots__ = ("_values", "_raw")

    def __init__(self, values: dict[str, object], raw: dict[str, str]) -> None:
        self._values = values
        self._raw = raw

    def __getitem__(self, param: Param[V]) -> V:
        value = self._values.get(param.name)
        if value is None:
            raise KeyError(f"parameter {param.name!r} has no value")
        return value  # type: ignore[return-value]

    def get(self, param: Param[V]) -> V | None:
        """The value, or None when unset without a default."""
        return self._values.get(param.name)  # type: ignore[return-value]

    def is_set(self, param: Param[V]) -> bool:
        """True when the user gave a non-empty value."""
        return param.name in self._raw

    def raw(self, param: Param[V]) -> str | None:
        """The text the user gave, or None."""
        return self._raw.get(param.name)

    def replace(self, param: Param[V], value: V) -> Config:
        """A copy with one value changed (e.g. unique_clone_address's ip)."""
        values = dict(self._values)
        values[param.name] = value
        return Config(values, dict(self._raw))


def _describe_value(param: Param[object], text: str) -> str:
    return "<redacted>" if param.secret else repr(text)


def parse_params(
    params: Sequence[Param[object]], reskeys: Mapping[str, str]
) -> tuple[Config, list[Problem]]:
    """Typed values for params from the OCF_RESKEY_ suffixes in reskeys.

    Never raises: every bad or missing value becomes a Problem (rc 6, the
    configuration is inherently invalid) and the parameter is left without
    a value; a value the shell agent accepts although it is invalid (Fallback)
    gets the shell agent's meaning and a Problem with rc 0: a warning. An
    empty value counts as unset: the default applies. Surrounding white space
    is not part of a value (the shell agents lose it in word splitting), except
    in a secret.
    """
    values: dict[str, object] = {}
    raw: dict[str, str] = {}
    problems: list[Problem] = []
    for param in params:
        text = reskeys.get(param.name)
        if text is None or not text.strip():
            for alias in param.aliases:
                alias_text = reskeys.get(alias)
                if alias_text is not None and alias_text.strip():
                    text = alias_text
                    break
        if text is not None and text.strip():
            if not param.secret:
                text = text.strip()
            raw[param.name] = text
            try:
                values[param.name] = param.kind.parse(text)
            except Fallback as err:
                values[param.name] = err.value
                problems.append(
                    Problem(
                        f"parameter {param.name}={_describe_value(param, text)} {err}", OCF.SUCCESS
                    )
                )
            except ValueError as err:
                problems.append(
                    Problem(f"parameter {param.name}={_describe_value(param, text)} {err}")
                )
            except Exception as err:  # noqa: BLE001 - a Kind bug must not escape
                problems.append(Problem(f"parameter {param.name}: cannot be parsed ({err})"))
            continue
        if param.required and param.enforced:
            problems.append(Problem(f"required parameter {param.name} is not set"))
            continue
        if param.default is not None and param.default != "":
            try:
                values[param.name] = param.kind.parse(param.default)
            except ValueError as err:
                problems.append(Problem(f"default of {param.name} {err} (a bug in the agent)"))
    return Config(values, raw), problems
