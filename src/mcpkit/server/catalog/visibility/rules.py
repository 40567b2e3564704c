"""Which tools, resources, templates and prompts a server shows: `server.enable()` and
`server.disable()` by name, tag, version and kind, with an allowlist mode (docs/compose.md,
"Tags and visibility").

A hidden component is neither listed nor found, so calling, reading or getting it fails as
for an unknown one. The server's rules are applied to its registries (`Registry.refilter`),
so its lists stay cached and a request pays nothing for them; each change that alters what a
registry shows announces its list_changed, as a registration does. Rules are kept in order and
the last one that speaks of a component decides; `only=True` makes an enable speak of every
component of its kinds, hiding those it does not pick.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, Never, Protocol

from mcpkit.server.catalog.registration_checks import check_options
from mcpkit.server.catalog.registry import Registry
from mcpkit.server.catalog.visibility.tags import tag_set
from mcpkit.server.catalog.visibility.versioned import Versions
from mcpkit.server.catalog.visibility.versions import check_version_filter, in_version_filter
from mcpkit.stores.component_rules import ComponentRule

__all__ = [
    "KINDS",
    "Component",
    "Kind",
    "Labelled",
    "Visibility",
    "VisibilityRule",
    "added",
    "decide",
    "make_rule",
    "matches",
    "shown_by",
]

Kind = Literal["tool", "resource", "template", "prompt"]
#: The kinds of component, as `kinds=` names them.
KINDS: Final[tuple[Kind, ...]] = ("tool", "resource", "template", "prompt")


class Labelled(Protocol):
    """A registered component's labels (`ToolSpec`, `ResourceSpec`, `TemplateSpec`,
    `PromptSpec`)."""

    @property
    def tags(self) -> frozenset[str]: ...

    @property
    def version(self) -> str | None: ...


def make_rule(
    where: str,
    enable: bool,
    names: Sequence[str],
    tags: Iterable[str] | None,
    version: str | None,
    kinds: Iterable[str] | None,
    only: bool,
) -> ComponentRule:
    """The rule of one `enable`/`disable` call, checked; TypeError or ValueError naming
    `where` for a mistake, and for a call that picks nothing (it would pick everything)."""
    for name in names:
        _check_name(where, name)
    kind_set = _kinds(where, kinds)
    rule = ComponentRule(
        enable=enable,
        names=frozenset(names),
        tags=tag_set(where, tags),
        version=_version_filter(where, version),
        kinds=kind_set,
        only=bool(only),
    )
    # A rule with no selector matches everything: `server.disable()` with its arguments
    # forgotten would hide the whole server.
    if not (rule.names or rule.tags or rule.version is not None or rule.kinds):
        raise ValueError(
            f"{where} needs something to pick components by: names, tags=, version= or "
            f"kinds= (such as kinds={{'tool'}} for every tool)"
        )
    return rule


def _version_filter(where: str, version: object) -> str | None:
    """`version=` checked as written: an exact version or a range (`versions`)."""
    if version is None:
        return None
    if not isinstance(version, str) or not version:
        raise TypeError(f"{where}: version is a string such as '2' or '>=2', not {version!r}")
    check_version_filter(where, version)
    return version


def _check_name(where: str, name: object) -> None:
    if not isinstance(name, str) or not name:
        raise TypeError(f"{where}: a name is a non-empty string, not {name!r}")


def _kinds(where: str, kinds: Iterable[str] | None) -> frozenset[str]:
    """`kinds=` as a set of `KINDS`. An empty one is refused: a rule reads no kinds as no
    filter on kind, and would pick every kind where the caller named none."""
    if kinds is None:
        return frozenset()
    if isinstance(kinds, str):
        raise TypeError(f"{where}: give kinds as a collection, such as kinds={{{kinds!r}}}")
    found = frozenset(kinds)
    unknown = sorted(str(kind) for kind in found if kind not in KINDS)
    if unknown or not found:
        raise ValueError(f"{where}: kinds are among {', '.join(KINDS)}, not {unknown or '[]'}")
    return found


def matches(rule: ComponentRule, kind: str, key: str, item: Labelled) -> bool:
    """Whether `rule` picks the `kind` component known as `key`."""
    return (
        (not rule.kinds or kind in rule.kinds)
        and (not rule.names or key in rule.names)
        and (not rule.tags or not rule.tags.isdisjoint(item.tags))
        and (rule.version is None or in_version_filter(rule.version, item.version))
    )


def decide(
    rules: Iterable[ComponentRule], kind: str, key: str, item: Labelled, shown: bool = True
) -> bool:
    """Whether the component is shown after `rules`, in order, starting from `shown`."""
    for rule in rules:
        if matches(rule, kind, key, item):
            shown = rule.enable
        # An allowlist (`only=True`) speaks of every component of its kinds: one it does
        # not pick is hidden by it, whatever the rules before said.
        elif rule.only and (not rule.kinds or kind in rule.kinds):
            shown = False
    return shown


def added(rules: tuple[ComponentRule, ...], rule: ComponentRule) -> tuple[ComponentRule, ...]:
    """`rules` then `rule`, without the earlier rules `rule` overrides for every component
    (so turning one tool off and on again does not grow the list)."""

    def overridden(earlier: ComponentRule) -> bool:
        if rule.only and (not rule.kinds or (earlier.kinds and earlier.kinds <= rule.kinds)):
            return True
        return earlier.same_selector(rule) and (rule.only or not earlier.only)

    return (*(r for r in rules if not overridden(r)), rule)


def shown_by(rules: tuple[ComponentRule, ...], kind: str) -> Callable[[str, Labelled], bool] | None:
    """The registry filter of `rules` for `kind` components: None when none of them can
    hide one (no filter at all: nothing to pay on any request)."""
    relevant = tuple(r for r in rules if not r.kinds or kind in r.kinds)
    if not any(not r.enable or r.only for r in relevant):
        return None
    return functools.partial(_shown, relevant, kind)


def _shown(rules: tuple[ComponentRule, ...], kind: str, key: str, item: Labelled) -> bool:
    """`decide` with the arguments a registry's filter is called with (`shown_by`)."""
    return decide(rules, kind, key, item)


@dataclass(frozen=True, slots=True)
class Component:
    """A component as a per-request rule sees it (`Server.add_visibility_rule`): its `kind`,
    `key` (a tool's or prompt's name, a resource's URI, a template's URI template, as the
    server shows it), `tags`, `version`, and `spec` (its `ToolSpec`, `ResourceSpec`...)."""

    kind: Kind
    key: str
    tags: frozenset[str]
    version: str | None
    spec: Any


#: A per-request rule: whether the request of the Context (`ctx.auth`: the caller's token,
#: scopes and claims) may see and use the component.
VisibilityRule = Callable[[Any, Component], bool]


class Visibility:
    """The server-wide rules of one server, applied to its registries (`kind` -> registry),
    and its per-request rules (`add_rule`), applied by `shown_to`."""

    def __init__(self, registries: Mapping[Kind, Registry[Any]]) -> None:
        self._registries = registries
        #: The rules in force, in the order given (the last that picks a component decides).
        self.rules: tuple[ComponentRule, ...] = ()
        #: The names registered in several versions (`add_version`).
        self.versions = Versions(registries)
        #: The per-request rules, each of which must let a component through.
        self.request_rules: tuple[VisibilityRule, ...] = ()
        #: Removed names, (kind, name) -> the name that replaces it (`tombstone`).
        self.tombstones: dict[tuple[str, str], str | None] = {}
        #: The rules of the server this one's is mounted in (`adopt`), if it is.
        self.parent: Visibility | None = None
        #: Whether a server mounted in this one, at any depth, has per-request rules: its
        #: components shown here are judged by them too (`shown_to`). Set as they come.
        self.rules_below = False
        #: The tools a request calls as they are found, by the name shown (no rule, view or
        #: scope of theirs to judge), and the count of the catalog's changes (its registries'
        #: `counter`) they were found at: kept by the tools/call handler (`handlers.features`).
        self.unjudged_tools: tuple[int, Mapping[str, Any]] = (-1, {})

    def adopt(self, child: Visibility) -> None:
        """`child` is the rules of a server now mounted in this one's."""
        child.parent = self
        if child.request_rules or child.rules_below:
            self._mark_rules_below()

    def _mark_rules_below(self) -> None:
        """This one and those above it have rules below (never unset: rules stay)."""
        above: Visibility | None = self
        while above is not None and not above.rules_below:
            above.rules_below = True
            above._judged_anew()
            above = above.parent

    def _judged_anew(self) -> None:
        """What a request sees is judged anew from here on: what was worked out from this
        server's catalog, `unjudged_tools` among it, is worked out again."""
        self._registries["tool"].touch()

    def tombstone(
        self,
        name: str,
        /,
        *,
        replacement: str | None = None,
        kind: Literal["tool", "prompt", "resource"] = "tool",
        **misspelt: Never,
    ) -> None:
        """Remember that the `kind` component `name` (a tool by default; a resource by its
        URI) was removed, and what replaces it: a call of it is then refused with an error
        that says so and names `replacement` (also in the error's `data`), not as a mere
        unknown name. Remove the component first: a registered one cannot be a tombstone."""
        where = "server.tombstone()"
        check_options(where, misspelt, self.tombstone)
        if kind not in ("tool", "prompt", "resource"):
            raise ValueError(f"{where}: kind is 'tool', 'prompt' or 'resource', not {kind!r}")
        _check_name(where, name)
        if replacement is not None:
            _check_name(where, replacement)
        registry = self._registries[kind]
        if name in registry or registry.own(name) is not None:
            raise ValueError(
                f"{where}: a {kind} named {name!r} is registered; remove it first, then "
                "leave its tombstone"
            )
        self.tombstones = {**self.tombstones, (kind, name): replacement}

    def add_rule(self, rule: VisibilityRule) -> VisibilityRule:
        """Decide per request which components a request may see and use: `rule(ctx,
        component)` returns whether the request of `ctx` (its `ctx.auth`, `ctx.client_info`...)
        may see `component` (a `Component`); a component every rule lets through is listed
        and usable, any other is as unknown. Judged by the server the client talks to, by the
        names it shows; a mounted server's rules judge its components too, by its own names
        (`ctx.server` is the mounted server). Usable as a decorator.
        Rules run on every list and call: keep them quick, and sync. Added while serving,
        it sends every list's list_changed."""
        if not callable(rule):
            raise TypeError(
                f"a visibility rule is a function (ctx, component) -> bool, not {rule!r}"
            )
        self.request_rules = (*self.request_rules, rule)
        self._judged_anew()
        if self.parent is not None:
            self.parent._mark_rules_below()
        # What a request sees may have changed for every list: clients that may hear of it
        # are told (once per list: resources and templates are one list to them).
        announced: list[object] = []
        for registry in self._registries.values():
            announce = registry.on_change
            if announce is not None and announce not in announced:
                announced.append(announce)
                announce()
        return rule

    def enable(
        self,
        /,
        *names: str,
        tags: Iterable[str] | None = None,
        version: str | None = None,
        kinds: Iterable[Kind] | None = None,
        only: bool = False,
        **misspelt: Never,
    ) -> None:
        """Show the components picked by every criterion given: `names` (a tool's or
        prompt's name, a resource's URI, a template's URI template), `tags=` (any of them),
        `version=` (exact, or a range such as ">=2" or ">=1,<2"), `kinds=` ("tool",
        "resource", "template", "prompt"). With `only=True`, also hide every other
        component (of those kinds, when `kinds=` is given): an allowlist. Clients that may
        hear of it get list_changed."""
        check_options("server.enable()", misspelt, self.enable)
        rule = make_rule("server.enable()", True, names, tags, version, kinds, only)
        self._apply(rule)

    def disable(
        self,
        /,
        *names: str,
        tags: Iterable[str] | None = None,
        version: str | None = None,
        kinds: Iterable[Kind] | None = None,
        **misspelt: Never,
    ) -> None:
        """Hide the components picked by every criterion given (as for `enable`): they are
        not listed, and calling, reading or getting one fails as for an unknown one. It
        holds for components registered or mounted later too."""
        check_options("server.disable()", misspelt, self.disable)
        self._apply(make_rule("server.disable()", False, names, tags, version, kinds, False))

    def add_version(self, kind: Kind, key: str, item: Any) -> None:
        """Register `item` as `key` of `kind`, as one more version of it if it has some
        (`versioned.Versions`): the highest these rules show stands for the name."""
        self.versions.add(kind, key, item, shown_by(self.rules, kind))

    def _apply(self, rule: ComponentRule) -> None:
        self.rules = added(self.rules, rule)
        for kind, registry in self._registries.items():
            registry.refilter(shown_by(self.rules, kind))
        self.versions.repick(lambda kind: shown_by(self.rules, kind))
