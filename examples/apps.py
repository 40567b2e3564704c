"""MCP Apps (SEP-1865): a tool that ships an interactive view, and a tool for the view alone.

Run it with `mcpkit dev examples/apps.py`; a host that renders MCP Apps (it declares the
`io.modelcontextprotocol/ui` extension) shows the forecast in the view, and a client that does
not gets the same tool, text only (docs/apps.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

from mcpkit import Server

server = Server("apps-example", version="1.0.0")

# The view: an HTML file served as ui://forecast/view (read at each read: edit it and reload).
# It reaches no other origin, so it declares no CSP domains (a view that fetches from an API
# says so with `csp=Csp(connect_domains=("https://api.example.com",))`).
server.add_view(
    "ui://forecast/view",
    Path(__file__).parent / "apps_views" / "forecast.html",
    description="Three days of weather, with a refresh button",
    prefers_border=True,
)


class Day(TypedDict):
    day: str
    celsius: float
    sky: str


class Forecast(TypedDict):
    city: str
    days: list[Day]


def _forecast(city: str, offset: float = 0.0) -> Forecast:
    skies = ["clear", "clouds", "rain"]
    days = [
        Day(day=name, celsius=round(18.5 + i + offset, 1), sky=skies[i % 3])
        for i, name in enumerate(["Mon", "Tue", "Wed"])
    ]
    return Forecast(city=city, days=days)


@server.tool(view="ui://forecast/view")
def forecast(city: str) -> Forecast:
    """Three days of weather for a city (a host that renders views shows them in one)."""
    return _forecast(city)


@server.tool(view="ui://forecast/view", visibility=["app"])
def refresh_forecast(city: str) -> Forecast:
    """Fresh numbers for the forecast view (the model never sees this tool)."""
    return _forecast(city, offset=0.5)


if __name__ == "__main__":
    server.run()
