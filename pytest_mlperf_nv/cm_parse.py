"""The words of a CM/MLC command line: launcher, script tags and variations, flags.

:func:`parse_command` splits a command (``cm run script --tags=...``, ``cmr "..."``, ``mlcr ...``) into
the tool, its tags (variations are the tags that start with ``_``) and its flags, keys normalised as
CM does; a command it cannot read raises :class:`CmTranslationError`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from .errors import MlperfError


class CmTranslationError(MlperfError, ValueError):
    """A CM/MLC command with items that cannot be translated; ``problems`` lists every one."""

    def __init__(self, problems: list[str], command: str = ""):
        self.problems = list(problems)
        self.command = command
        head = (f"cannot translate {len(self.problems)} item(s) of the CM command"
                if len(self.problems) != 1 else "cannot translate 1 item of the CM command")
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


#: launchers: word(s) -> tool name. "cmr"/"mlcr" already mean "run script --tags=".
_LAUNCHERS = {
    ("cm", "run", "script"): "cm", ("cmx", "run", "script"): "cm", ("cm", "docker", "script"): "cm",
    ("cmr",): "cm", ("cmx", "run"): "cm", ("mlc", "run", "script"): "mlc",
    ("mlc", "docker", "script"): "mlc", ("mlcr",): "mlc", ("mlcd",): "mlc",
}
_REMOTE_LAUNCHERS = ("mlcrr", "cmrr")


@dataclass
class Flag:
    key: str  # normalised: CM turns '-' into '_' in input keys
    value: str | None
    text: str  # as written


@dataclass
class Command:
    tool: str
    tags: list[str]
    flags: list[Flag]


def _tokens(command: str | list[str]) -> list[str]:
    if isinstance(command, list):
        return list(command)
    text = re.sub(r"\\\r?\n", " ", command)  # shell line continuations
    try:
        return shlex.split(text, comments=False)
    except ValueError as exc:
        raise CmTranslationError([f"cannot split the command line: {exc}"], str(command)) from None


def split_tags(text: str) -> list[str]:
    return [t for t in re.split(r"[,\s]+", text.strip()) if t]


def _norm_key(key: str) -> str:
    return key if "." in key else key.replace("-", "_")


def parse_command(command: str | list[str]) -> Command:
    words = _tokens(command)
    text = command if isinstance(command, str) else shlex.join(command)
    if not words:
        raise CmTranslationError(["empty command"], text)
    if words[0] in _REMOTE_LAUNCHERS:
        raise CmTranslationError([f"{words[0]}: remote runs are not supported; translate the command "
                                  "you would run on the GPU machine"], text)
    tool = None
    for size in (3, 2, 1):
        key = tuple(words[:size])
        if key in _LAUNCHERS:
            tool, rest = _LAUNCHERS[key], words[size:]
            break
    if tool is None:
        raise CmTranslationError([f"not a CM/MLC command: it starts with {' '.join(words[:3])!r}; expected "
                                  "'cm run script', 'cmr', 'mlc run script' or 'mlcr'"], text)
    tags: list[str] = []
    flags: list[Flag] = []
    for word in rest:
        if word.startswith("-"):
            body = word.lstrip("-")
            name, sep, value = body.partition("=")
            flags.append(Flag(_norm_key(name), value if sep else None, word))
            if _norm_key(name) == "tags" and sep:
                tags.extend(split_tags(value))
                flags.pop()
        else:
            tags.extend(split_tags(word))
    return Command(tool=tool, tags=tags, flags=flags)


__all__ = ["CmTranslationError", "Command", "Flag", "parse_command", "split_tags"]
