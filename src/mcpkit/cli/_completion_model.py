"""What completes after each word of an argparse parser, read by `describe` for the three
scripts of shell_completion: the verbs at any depth, each with its options, their choices,
its positionals, and which of those take file names.

Every string a script will hold is cleaned here, once: a verb, option or choice that is not a
plain word is left out, and help texts (hostile to a shell's quoting) keep only characters
that are inert inside the scripts' single quotes. Like shtab and argcomplete, this reads
argparse's private list of a parser's arguments (see `_actions_of`).
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from typing import cast

__all__ = ["Command", "Option", "Positional", "VerbPath", "describe"]

# A command is reached by its path: the verb words that lead to it (none: the parser itself).
VerbPath = tuple[str, ...]
# Values complete as file names when the argument's metavar (or name) says it is one.
_FILE_WORDS = ("FILE", "PATH", "DIR", "TARGET")
# Words a script may hold unquoted: a verb, an option or a choice with anything else is left out.
_WORD = re.compile(r"[A-Za-z0-9_.,+/=@%-]+")


@dataclass(frozen=True, slots=True)
class Option:
    """An option: its flags, whether it takes a value, and how that value completes."""

    flags: tuple[str, ...]
    help: str
    takes_value: bool = False
    choices: tuple[str, ...] = ()
    files: bool = False
    metavar: str = "VALUE"


@dataclass(frozen=True, slots=True)
class Positional:
    """A positional argument: its name and how it completes; `variadic` takes the rest."""

    name: str
    choices: tuple[str, ...] = ()
    files: bool = False
    variadic: bool = False


@dataclass(frozen=True, slots=True)
class Command:
    """The parser (name "") or one verb: what follows it on the command line."""

    name: str
    help: str
    options: tuple[Option, ...]
    positionals: tuple[Positional, ...]
    verbs: tuple[Command, ...] = field(default=())

    def valued_flags(self) -> list[str]:
        return [flag for option in self.options if option.takes_value for flag in option.flags]

    def walk(self, path: VerbPath = ()) -> list[tuple[VerbPath, Command]]:
        """This command and every verb under it, at any depth, each with the verb words that
        lead to it from the parser (`path` leads to this one)."""
        found: list[tuple[VerbPath, Command]] = [(path, self)]
        for verb in self.verbs:
            found += verb.walk((*path, verb.name))
        return found


def describe(parser: argparse.ArgumentParser, name: str = "", help_text: str = "") -> Command:
    """What completes after `parser`'s words: its options, positionals and verbs, each verb
    described the same way (at any depth)."""
    options: list[Option] = []
    positionals: list[Positional] = []
    verbs: list[Command] = []
    for action in _actions_of(parser):
        if action.help == argparse.SUPPRESS:
            continue
        if isinstance(action, _VerbsAction):  # its parsers are what add_parser made
            verbs += _verbs(cast("_VerbsAction[argparse.ArgumentParser]", action))
        elif action.option_strings:
            options.append(_option(action))
        else:
            positionals.append(_positional(action))
    return Command(name, help_text, tuple(options), tuple(positionals), tuple(verbs))


def _actions_of(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    # argparse has no public way to list a parser's arguments; `_actions` has held them since
    # Python 2.7 and is what every completion generator reads. tests/cli/test_completion.py
    # proves the result against the parser (each verb, option and choice completes).
    return list(parser._actions)  # pyright: ignore[reportPrivateUsage]  # see above


# What `add_subparsers()` returns: its choices are the verbs, {name: their parser}.
_VerbsAction = argparse._SubParsersAction  # pyright: ignore[reportPrivateUsage]


def _verbs(action: _VerbsAction[argparse.ArgumentParser]) -> list[Command]:
    # The one-line help each verb was added with (`add_parser(name, help=...)`, as `--help`
    # lists it) is kept only on the action's pseudo-actions, read like `_actions` above; a verb
    # added without one is described by its parser's description.
    pseudo = action._choices_actions  # pyright: ignore[reportPrivateUsage]  # see above
    helps = {choice.dest: choice.help for choice in pseudo}
    return [
        describe(sub, name, _first_sentence(helps.get(name) or sub.description))
        for name, sub in action.choices.items()
        if _WORD.fullmatch(name) and helps.get(name) != argparse.SUPPRESS
    ]


def _option(action: argparse.Action) -> Option:
    flags = tuple(flag for flag in action.option_strings if _WORD.fullmatch(flag))
    takes_value = action.nargs != 0
    choices = _choices(action)
    # only a metavar the author chose says "file": `--path` of `run` is a URL path
    metavar = action.metavar if isinstance(action.metavar, str) else ""
    return Option(
        flags,
        _first_sentence(action.help),
        takes_value,
        choices,
        takes_value and not choices and _names_files(metavar),
        _clean(metavar or action.dest.upper()) or "VALUE",
    )


def _positional(action: argparse.Action) -> Positional:
    metavar = action.metavar if isinstance(action.metavar, str) else action.dest
    choices = _choices(action)
    variadic = action.nargs in ("*", "+", argparse.REMAINDER)
    files = not choices and (_names_files(metavar) or _names_files(action.dest))
    return Positional(_clean(metavar) or action.dest, choices, files, variadic)


def _choices(action: argparse.Action) -> tuple[str, ...]:
    if action.choices is None or isinstance(action.choices, dict):
        return ()
    return tuple(str(choice) for choice in action.choices if _WORD.fullmatch(str(choice)))


def _names_files(text: str) -> bool:
    return any(word in text.upper() for word in _FILE_WORDS)


def _first_sentence(text: str | None) -> str:
    sentence = re.split(r"(?<=[.;])\s", " ".join((text or "").split()), maxsplit=1)[0]
    # an apostrophe would end the scripts' single quotes: the typographic one reads the same
    return _clean(sentence.rstrip(".;").replace("'", "\u2019"), keep=":\u2019")[:80]


def _clean(text: str, *, keep: str = "") -> str:
    """Text safe inside any of the three scripts' single quotes and zsh's `[...]`; `keep` adds
    characters (a colon may stand in a description, never in a zsh spec's name)."""
    allowed = re.escape(" .,+/=@%()<>|-" + keep)
    return " ".join(re.sub(rf"[^\w{allowed}]", " ", text).split())
