"""The markdown tables of the Streamable HTTP benchmark, from the samples of `bench/run`."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from http_bench import ANSWERS, BY_KEY, CORE_IDLE, CORE_VARIANTS, IDLE_VARIANTS, VARIANTS

__all__ = ["compare_report", "core_figures", "core_report", "core_table", "http_report"]
__all__ += ["kind_bound", "kinds_table", "leading_server"]

Samples = dict[str, dict[str, list[float]]]
SERVERS = ("h11", "httptools", "granian")
SERVER_NAMES = {
    "h11": "uvicorn with h11",
    "httptools": "uvicorn with httptools",
    "granian": "granian",
}


def _median(samples: Samples, key: str, figure: str) -> float | None:
    values = samples.get(key, {}).get(figure)
    return statistics.median(values) if values else None


def _spread(values: Sequence[float] | None, fmt: str = "{:,.0f}") -> str:
    """The median, and the range over rounds when there was more than one."""
    if not values:
        return ""
    mid = fmt.format(statistics.median(values))
    if len(values) == 1:
        return mid
    return f"{mid} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def _latency(samples: Samples, key: str) -> str:
    p50, p99 = _median(samples, key, "http_p50_us"), _median(samples, key, "http_p99_us")
    return "" if p50 is None or p99 is None else f"{p50:,.0f} / {p99:,.0f}"


def leading_server(samples: Samples) -> str:
    """The HTTP server under which mcpkit's `async def` server spent the least CPU per SSE
    call: on a shared machine calls/s swing with the other load, CPU per call much less."""
    costs = {s: _median(samples, f"http:mcpkit_async/{s}:sse", "http_cpu_us") for s in SERVERS}
    known = {s: c for s, c in costs.items() if c is not None}
    return min(known, key=lambda s: known[s]) if known else "httptools"


def load_table(samples: Samples, keys: Sequence[str] | None = None) -> str:
    lines = [
        "| server | SSE calls/s | SSE p50 / p99 (us) | SSE server CPU per call (us) "
        "| JSON calls/s | JSON p50 / p99 (us) | JSON server CPU per call (us) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for v in VARIANTS:
        if v.floor or (keys is not None and v.key not in keys):
            continue
        sse, js = f"http:{v.key}:sse", f"http:{v.key}:json"
        cells = [
            _spread(samples.get(sse, {}).get("http_rps")),
            _latency(samples, sse),
            _spread(samples.get(sse, {}).get("http_cpu_us")),
            _spread(samples.get(js, {}).get("http_rps")),
            _latency(samples, js),
            _spread(samples.get(js, {}).get("http_cpu_us")),
        ]
        lines.append(f"| {v.label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def floor_table(samples: Samples) -> str:
    lines = [
        "| floor | calls/s | p50 / p99 (us) | server CPU per call (us) "
        "| load generator CPU per call (us) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for v in VARIANTS:
        if not v.floor:
            continue
        key = f"http:{v.key}:json"
        figures = samples.get(key, {})
        cells = [
            _spread(figures.get("http_rps")),
            _latency(samples, key),
            _spread(figures.get("http_cpu_us")),
            _spread(figures.get("http_loadgen_cpu_us")),
        ]
        lines.append(f"| {v.label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _ratio_row(samples: Samples, label: str, mine: str, theirs: str, bound: float | None) -> str:
    cells = []
    for figure in ("http_rps", "http_cpu_us"):
        a, b = _median(samples, mine, figure), _median(samples, theirs, figure)
        cells.append("" if a is None or not b else f"{a / b:.2f}")
    target = ""
    if bound is not None and cells[0]:
        target = f"ratio >= {bound:g}: {'met' if float(cells[0]) >= bound else 'NOT met'}"
    return f"| {label} | {cells[0]} | {cells[1]} | {target} |"


def targets_table(samples: Samples, server: str) -> str:
    lines = [
        "| SSE answers, 16 sessions | calls/s ratio | CPU per call ratio | target |",
        "| --- | ---: | ---: | --- |",
        _ratio_row(
            samples,
            f"mcpkit `def` ({server}) / official `def`",
            f"http:mcpkit/{server}:sse",
            "http:official:sse",
            6,
        ),
        _ratio_row(
            samples,
            f"mcpkit `async def` ({server}) / official `async def`",
            f"http:mcpkit_async/{server}:sse",
            "http:official_async:sse",
            6,
        ),
        _ratio_row(
            samples,
            f"mcpkit `async def` ({server}) / TypeScript SDK",
            f"http:mcpkit_async/{server}:sse",
            "http:ts:sse",
            2,
        ),
        _ratio_row(
            samples,
            "mcpkit `async def` (h11, asyncio) / official `async def` (h11, asyncio)",
            "http:mcpkit_async/h11-asyncio:sse",
            "http:official_async:sse",
            None,
        ),
    ]
    return "\n".join(lines)


def eras_table(samples: Samples) -> str:
    """A 2026-07-28 client (no session, its terms on each call) against a 2025-11-25 session,
    on the same server: the issue's target is a CPU per call ratio of at most 1."""
    lines = [
        "| 2026-07-28 / 2025-11-25, mcpkit `async def`, httptools | answers | calls/s ratio "
        "| CPU per call ratio | target |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    for loop, suffix in (("uvloop", ""), ("asyncio", "-asyncio")):
        for answers in ANSWERS:
            mine = f"http:mcpkit_async/httptools{suffix}-2026:{answers}"
            theirs = f"http:mcpkit_async/httptools{suffix}:{answers}"
            a = _median(samples, mine, "http_cpu_us")
            b = _median(samples, theirs, "http_cpu_us")
            rps_a = _median(samples, mine, "http_rps")
            rps_b = _median(samples, theirs, "http_rps")
            cpu = "" if a is None or not b else f"{a / b:.2f}"
            rps = "" if rps_a is None or not rps_b else f"{rps_a / rps_b:.2f}"
            target = f"ratio <= 1: {'met' if float(cpu) <= 1 else 'NOT met'}" if cpu else ""
            lines.append(f"| {loop} | {answers} | {rps} | {cpu} | {target} |")
    return "\n".join(lines)


# Issue 40's request-core targets: (era, mcpkit, official, TypeScript, its label, the bound of
# mcpkit / official, of mcpkit / TypeScript); mcpkit `async def` on uvicorn httptools in both.
CORE_ROWS = [
    (
        "2025-11-25 sessions",
        "mcpkit_async/httptools",
        "official_async",
        "ts",
        "v1",
        None,
        4.0,
    ),
    (
        "2026-07-28, no session",
        "mcpkit_async/httptools-2026",
        "official_async-2026",
        "ts2-2026",
        "v2",
        10.0,
        10.0,
    ),
]
CPU_BOUND = 0.8  # server CPU per 2026 request / per 2025 session call, at most
CPU = "http_cpu_us"
IDLE_BOUND_KIB = 4.0


def _ratio(samples: Samples, mine: str, theirs: str, figure: str) -> float | None:
    a, b = _median(samples, mine, figure), _median(samples, theirs, figure)
    return None if a is None or not b else a / b


def _versus(samples: Samples, mine: str, theirs: str, bound: float | None) -> str:
    ratio = _ratio(samples, mine, theirs, "http_rps")
    if ratio is None:
        return ""
    if bound is None:
        return f"{ratio:.1f}"
    return f"{ratio:.1f} (>= {bound:g}: {'met' if ratio >= bound else 'NOT met'})"


def core_table(samples: Samples) -> str:
    """The issue's table: calls/s of mcpkit, the official SDK and the TypeScript SDK, 16
    clients, same run; mcpkit's server CPU per call beside its calls/s."""
    lines = [
        "| answers | | mcpkit calls/s (CPU per call, us) | official SDK | TypeScript SDK "
        "| mcpkit / official | mcpkit / TypeScript |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for answers in ANSWERS:
        for label, mine, official, ts, ts_version, official_bound, ts_bound in CORE_ROWS:
            key = f"http:{mine}:{answers}"
            rps, cpu = _median(samples, key, "http_rps"), _median(samples, key, "http_cpu_us")
            mine_cell = "" if rps is None or cpu is None else f"{rps:,.0f} ({cpu:,.0f})"
            official_rps = _median(samples, f"http:{official}:{answers}", "http_rps")
            ts_rps = _median(samples, f"http:{ts}:{answers}", "http_rps")
            cells = [
                mine_cell,
                "" if official_rps is None else f"{official_rps:,.0f}",
                "" if ts_rps is None else f"{ts_rps:,.0f} ({ts_version})",
                _versus(samples, key, f"http:{official}:{answers}", official_bound),
                _versus(samples, key, f"http:{ts}:{answers}", ts_bound),
            ]
            lines.append(f"| {answers} | {label} | " + " | ".join(cells) + " |")
    return "\n".join([*lines, "", *_core_bounds(samples)])


def _core_bounds(samples: Samples) -> list[str]:
    """The CPU ratio of the two eras and the idle session's memory, against their bounds."""
    found = []
    session, request = CORE_ROWS[0][1], CORE_ROWS[1][1]
    for answers in ANSWERS:
        eras = _ratio(samples, f"http:{request}:{answers}", f"http:{session}:{answers}", CPU)
        if eras is not None:
            met = "met" if eras <= CPU_BOUND else "NOT met"
            found.append(
                f"- {answers}: server CPU per 2026-07-28 call / per 2025-11-25 session call: "
                f"{eras:.2f} (<= {CPU_BOUND:g}: {met})"
            )
    for key in CORE_IDLE:
        kib = _median(samples, f"http:{key}:idle", "idle_kib")
        if kib is not None:
            met = "met" if kib < IDLE_BOUND_KIB else "NOT met"
            found.append(
                f"- an idle 2025-11-25 session ({BY_KEY[key].label}): {kib:,.1f} KiB "
                f"(< {IDLE_BOUND_KIB:g}: {met})"
            )
    return found


CORE_FLOOR = "floor/httptools"
# The parsing floor (issue 65): mcpkit's server CPU per 2026 call at most this multiple of it.
PARSING_FLOOR, PARSING_BOUND = "floor-json/httptools-2026", 1.5


def _parsing_multiple(samples: Samples, answers: str) -> float | None:
    """mcpkit's server CPU per 2026-07-28 call over the parsing floor's (JSON answers)."""
    return _ratio(samples, f"http:{CORE_ROWS[1][1]}:{answers}", f"http:{PARSING_FLOOR}:json", CPU)


def _parsing_lines(samples: Samples) -> list[str]:
    cpu = _median(samples, f"http:{PARSING_FLOOR}:json", CPU)
    if cpu is None:
        return []
    rps = _median(samples, f"http:{PARSING_FLOOR}:json", "http_rps") or 0.0
    found = [
        f"- the parsing floor ({BY_KEY[PARSING_FLOOR].label}): {rps:,.0f} calls/s, "
        f"{cpu:,.1f} us CPU per call"
    ]
    for answers in ANSWERS:
        multiple = _parsing_multiple(samples, answers)
        if multiple is not None:
            met = "met" if multiple <= PARSING_BOUND else "NOT met"
            found.append(
                f"- {answers}: mcpkit's server CPU per 2026-07-28 call / the parsing floor's: "
                f"{multiple:.2f} (<= {PARSING_BOUND:g}: {met})"
            )
    return found


# Issue 65's `def` tool target: each kind of mcpkit tool's server CPU per call over the parsing
# floor of its era, a `def` one at most `DEF_BOUND` in both eras (in a worker thread, the
# default, or on the loop); `async def` keeps `PARSING_BOUND`, a bound on the 2026 call only.
DEF_BOUND = 1.25
MODERN = "2026-07-28"
# (era, its label, the suffix of its variants' keys, its parsing floor)
ERAS = (
    ("2025-11-25", "2025-11-25 session", "", "floor-json/httptools"),
    (MODERN, "2026-07-28, no session", "-2026", PARSING_FLOOR),
)
# (app of servers/http_serve.py, its label); each served on uvicorn httptools.
TOOL_KINDS = (
    ("mcpkit_async", "`async def`"),
    ("mcpkit", "`def`, in a worker thread"),
    ("mcpkit_on_loop", "`def`, `sync_in_thread=False`"),
)


def kind_bound(app: str, era: str) -> float | None:
    """The most a call to `app`'s tool may cost in `era`, in parsing floors; None: no bound."""
    if app != "mcpkit_async":
        return DEF_BOUND
    return PARSING_BOUND if era == MODERN else None


def _kind_key(app: str, suffix: str, answers: str) -> str:
    return f"http:{app}/httptools{suffix}:{answers}"


def _kind_multiple(samples: Samples, app: str, era: str, answers: str) -> float | None:
    """`app`'s server CPU per call in `era` over the parsing floor of `era` (JSON answers)."""
    [(suffix, floor)] = [(suffix, floor) for name, _, suffix, floor in ERAS if name == era]
    return _ratio(samples, _kind_key(app, suffix, answers), f"http:{floor}:json", CPU)


def _kind_cell(samples: Samples, app: str, era: str, answers: str) -> str:
    [suffix] = [suffix for name, _, suffix, _ in ERAS if name == era]
    cpu = _median(samples, _kind_key(app, suffix, answers), CPU)
    if cpu is None:
        return ""
    multiple = _kind_multiple(samples, app, era, answers)
    if multiple is None:
        return f"{cpu:,.1f}"
    cell = f"{cpu:,.1f}: {multiple:.2f}x"
    bound = kind_bound(app, era)
    if bound is not None:
        cell += f" (<= {bound:g}: {'met' if multiple <= bound else 'NOT met'})"
    return cell


def kinds_table(samples: Samples) -> str:
    """Issue 65's `def` tool target: for each era and answers, each kind of tool's server CPU
    per call (us) and its multiple of the parsing floor of the same era, against its bound."""
    head = " | ".join(label for _, label in TOOL_KINDS)
    lines = [
        f"| era | answers | parsing floor, CPU per call (us) | {head} |",
        "| --- | --- | ---: |" + " ---: |" * len(TOOL_KINDS),
    ]
    for era, label, _, floor in ERAS:
        floor_cpu = _median(samples, f"http:{floor}:json", CPU)
        for answers in ANSWERS:
            cells = [_kind_cell(samples, app, era, answers) for app, _ in TOOL_KINDS]
            if not any(cells) and floor_cpu is None:
                continue
            floor_cell = "" if floor_cpu is None else f"{floor_cpu:,.1f}"
            lines.append(f"| {label} | {answers} | {floor_cell} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _kinds_lines(samples: Samples) -> list[str]:
    """The kinds table under its heading, or nothing when no row was measured."""
    table = kinds_table(samples)
    if table.count("\n") < 2:
        return []
    return [
        "Each kind of tool against the parsing floor of its era (issue 65: a `def` tool within "
        f"{DEF_BOUND:g}x in both eras, in a worker thread or on the loop; an `async def` one "
        f"within {PARSING_BOUND:g}x on the 2026-07-28 call), server CPU per call in us and its "
        "multiple of the floor's; the floor answers JSON:",
        "",
        table,
        "",
    ]


def _floor_lines(samples: Samples) -> list[str]:
    """What the HTTP server itself leaves to mcpkit: the bare ASGI app's calls/s and CPU per
    call on the same server (uvicorn httptools, same loop), mcpkit's CPU per call above it,
    and each calls/s target against what the bare app reaches. A target past the floor's
    calls/s cannot be met by mcpkit's code on this machine, whatever it cuts."""
    key = f"http:{CORE_FLOOR}:json"
    floor_rps, floor_cpu = _median(samples, key, "http_rps"), _median(samples, key, "http_cpu_us")
    if floor_rps is None or floor_cpu is None:
        return []
    found = [
        f"- the floor ({BY_KEY[CORE_FLOOR].label}: reads the body, answers a fixed JSON body): "
        f"{floor_rps:,.0f} calls/s, {floor_cpu:,.1f} us CPU per call"
    ]
    for answers in ANSWERS:
        for label, mine, official, ts, ts_version, official_bound, ts_bound in CORE_ROWS:
            cpu = _median(samples, f"http:{mine}:{answers}", "http_cpu_us")
            if cpu is None:
                continue
            asks = []
            for name, theirs, bound in (
                ("official SDK", official, official_bound),
                (f"TypeScript SDK {ts_version}", ts, ts_bound),
            ):
                their_rps = _median(samples, f"http:{theirs}:{answers}", "http_rps")
                if bound is not None and their_rps:
                    wanted = bound * their_rps
                    asks.append(
                        f"{bound:g}x the {name} asks {wanted:,.0f} calls/s, "
                        f"{wanted / floor_rps:.0%} of the floor's"
                    )
            found.append(
                f"- {answers}, {label}: mcpkit {cpu - floor_cpu:,.1f} us CPU per call above the "
                "floor" + "".join(f"; {ask}" for ask in asks)
            )
    return found


def core_report(samples: Samples, header: str, sessions: int) -> str:
    """`bench/run --only core`: issue 40's targets and the rows they are read from."""
    return "\n".join(
        [
            header,
            "",
            f"Request core targets (issue 40): {sessions} clients, each one keep-alive "
            "connection calling `echo` one call at a time; mcpkit `async def` on uvicorn "
            "httptools, the official SDK's `async def` server on uvicorn's defaults:",
            "",
            core_table(samples),
            "",
            "How much of each is mcpkit's: the same HTTP server with no MCP behind it (JSON "
            "answers), and what each calls/s target asks against it:",
            "",
            *_floor_lines(samples),
            *_parsing_lines(samples),
            "",
            *_kinds_lines(samples),
            "The rows they are read from:",
            "",
            load_table(samples, CORE_VARIANTS),
        ]
    )


def core_figures(samples: Samples) -> list[tuple[str, float | None]]:
    """Every mcpkit figure and ratio of `core_report`, labelled, in its order."""
    found: list[tuple[str, float | None]] = []
    for answers in ANSWERS:
        for label, mine, official, ts, ts_version, _, _ in CORE_ROWS:
            key, name = f"http:{mine}:{answers}", f"{answers}, {label}"
            found += [
                (f"{name}: mcpkit calls/s", _median(samples, key, "http_rps")),
                (f"{name}: mcpkit server CPU per call (us)", _median(samples, key, CPU)),
                (
                    f"{name}: mcpkit / official SDK, calls/s",
                    _ratio(samples, key, f"http:{official}:{answers}", "http_rps"),
                ),
                (
                    f"{name}: mcpkit / TypeScript SDK {ts_version}, calls/s",
                    _ratio(samples, key, f"http:{ts}:{answers}", "http_rps"),
                ),
            ]
        session, request = f"http:{CORE_ROWS[0][1]}:{answers}", f"http:{CORE_ROWS[1][1]}:{answers}"
        found += [
            (
                f"{answers}: CPU per 2026 call / per 2025 session call",
                _ratio(samples, request, session, CPU),
            ),
            (
                f"{answers}: CPU per 2026 call / the parsing floor's",
                _parsing_multiple(samples, answers),
            ),
        ]
        found += _kind_figures(samples, answers)
    for key in CORE_IDLE:
        found.append(
            (f"idle session ({key}), KiB", _median(samples, f"http:{key}:idle", "idle_kib"))
        )
    return found


def _kind_figures(samples: Samples, answers: str) -> list[tuple[str, float | None]]:
    """The figures of `kinds_table` that `core_figures` does not already hold: the `def`
    servers' CPU per call and each server's multiple of its era's parsing floor."""
    found: list[tuple[str, float | None]] = []
    for era, label, suffix, _ in ERAS:
        for app, kind in TOOL_KINDS:
            if app == "mcpkit_async" and era == MODERN:
                continue  # "CPU per 2026 call / the parsing floor's" above
            name = f"{answers}, {label}, {kind}"
            if app != "mcpkit_async":
                cpu = _median(samples, _kind_key(app, suffix, answers), CPU)
                found.append((f"{name}: server CPU per call (us)", cpu))
            multiple = _kind_multiple(samples, app, era, answers)
            found.append((f"{name}: CPU per call / the parsing floor's", multiple))
    return found


RATIO_SPREAD = 0.05  # issue 65: each mcpkit ratio within 5% of the reference's


def _one_round(samples: Samples, i: int) -> Samples:
    return {k: {f: v[i : i + 1] for f, v in figures.items()} for k, figures in samples.items()}


def _paired(ours: Samples, theirs: Samples) -> list[list[float]]:
    """Each figure's change round by round: this checkout's over REV's of the same round, whose
    runs were one right after the other, so the machine's drift between rounds cancels."""
    rounds = max((len(v) for figures in ours.values() for v in figures.values()), default=0)
    changes: list[list[float]] = [[] for _ in core_figures(ours)]
    for i in range(rounds):
        a, b = (core_figures(_one_round(samples, i)) for samples in (ours, theirs))
        for found, (_, x), (_, y) in zip(changes, a, b, strict=True):
            if x is not None and y:
                found.append(x / y - 1)
    return changes


def _change(label: str, changes: list[float]) -> str:
    if not changes:
        return ""
    mid = statistics.median(changes)
    text = f"{mid:+.1%}"
    if len(changes) > 1:
        text += f" ({min(changes):+.1%} to {max(changes):+.1%})"
    if " / " in label:
        text += f", {'within' if abs(mid) <= RATIO_SPREAD else 'NOT within'} {RATIO_SPREAD:.0%}"
    return text


def _figure(label: str, value: float | None) -> str:
    if value is None:
        return ""
    fmt = "{:,.2f}" if " / " in label else "{:,.0f}" if "calls/s" in label else "{:,.1f}"
    return fmt.format(value)


def compare_report(ours: Samples, theirs: Samples, against: str) -> str:
    """`bench/run --only core --against REV`: each figure of this checkout beside REV's, measured
    in the same rounds (the servers without mcpkit measured once, for both)."""
    lines = [
        f"This checkout against {against}, in the same rounds, the two measured one after the "
        "other; the servers without mcpkit measured once for both, so a ratio moves with "
        "mcpkit's figure alone. The change is the median over rounds of this checkout's "
        "figure over REV's in the same round (in brackets the lowest and highest); issue 65: "
        "every mcpkit ratio within 5% of the reference:",
        "",
        f"| figure | this checkout | {against} | change, round by round |",
        "| --- | ---: | ---: | ---: |",
    ]
    rows = zip(core_figures(ours), core_figures(theirs), _paired(ours, theirs), strict=True)
    for (label, a), (_, b), changes in rows:
        lines.append(
            f"| {label} | {_figure(label, a)} | {_figure(label, b)} | {_change(label, changes)} |"
        )
    return "\n".join(lines)


def idle_table(samples: Samples) -> str:
    lines = [
        "| idle sessions | KiB per session | server RSS before (MiB) |",
        "| --- | ---: | ---: |",
    ]
    for key in IDLE_VARIANTS:
        figures = samples.get(f"http:{key}:idle", {})
        before = figures.get("idle_rss_before_kib")
        rss = _spread([b / 1024 for b in before], "{:,.1f}") if before else ""
        label = BY_KEY[key].label.split(",")[0]
        lines.append(f"| {label} | {_spread(figures.get('idle_kib'), '{:,.1f}')} | {rss} |")
    return "\n".join(lines)


def http_report(samples: Samples, header: str, sessions: int, idle: int) -> str:
    server = leading_server(samples)
    return "\n".join(
        [
            header,
            "",
            f"{sessions} sessions, each one keep-alive connection calling `echo` one call at a "
            "time; median, and in brackets the lowest and highest round:",
            "",
            load_table(samples),
            "",
            "Against the official SDK and the TypeScript SDK, with mcpkit on the server under "
            f"which it spent the least CPU per call ({SERVER_NAMES[server]}):",
            "",
            targets_table(samples, server),
            "",
            "The same server to a 2026-07-28 client, whose calls carry their terms and open no "
            "session, against a 2025-11-25 session:",
            "",
            eras_table(samples),
            "",
            "Request core targets (issue 40), from the rows above: mcpkit `async def` on "
            "uvicorn httptools, the official SDK's `async def` server:",
            "",
            core_table(samples),
            "",
            *_kinds_lines(samples),
            "Floors: a bare ASGI app answering a fixed JSON body on each server, and a raw "
            "asyncio server that shows the load generator's own ceiling:",
            "",
            floor_table(samples),
            "",
            f"Server memory per idle session ({idle:,} sessions opened with initialize and "
            "notifications/initialized, nothing else; resident memory before and after):",
            "",
            idle_table(samples),
        ]
    )
