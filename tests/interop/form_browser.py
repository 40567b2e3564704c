"""`FormBrowser`: a headless "browser" for authorization flows in tests. It follows redirects
with a cookie jar, fills and submits the HTML forms it meets (an authorization front's consent
page, a provider's login and consent pages) and stops at the redirect to the client's
redirect URI, without following it. A `RedirectHandler` for mcpkit's OAuth client; `run(url)`
gives the final redirect URL to any other client (the official SDKs' callback handlers)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx

from mcpkit.auth.client.redirect import AuthorizationResponse

__all__ = ["Form", "FormBrowser", "Page", "allow"]


@dataclass
class Form:
    """A form of a page: where it posts, its fields (name to value) and its submit buttons."""

    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)  # field name -> input type
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (name, value)


@dataclass(frozen=True)
class Page:
    """A page the browser was shown."""

    url: str
    status: int
    text: str
    headers: httpx.Headers


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(found.get("action", ""), found.get("method", "get").lower()))
        elif not self.forms or ("name" not in found and tag != "button"):
            return
        elif tag == "input" and found.get("type", "text") == "submit":
            self.forms[-1].buttons.append((found.get("name", ""), found.get("value", "")))
        elif tag == "input":
            self.forms[-1].fields[found["name"]] = found.get("value", "")
            self.forms[-1].kinds[found["name"]] = found.get("type", "text").lower()
        elif tag == "button" and found.get("type", "submit") == "submit":
            self.forms[-1].buttons.append((found.get("name", ""), found.get("value", "")))


#: Picks the button to press on a page (its (name, value)), or None for the first one.
Chooser = Callable[[Page, Form], tuple[str, str] | None]


def allow(page: Page, form: Form) -> tuple[str, str] | None:
    """Press a button whose value reads as consent (`allow`), else the first."""
    for button in form.buttons:
        if button[1].lower() in ("allow", "accept", "yes", "approve"):
            return button
    return None


class FormBrowser:
    """Follows an authorization URL like a person who signs in as `login` (any password) and
    presses what `choose` picks on each page, until the redirect to `redirect_uri`. `pages`
    keeps every page shown, for the test to look at."""

    def __init__(
        self,
        redirect_uri: str = "http://127.0.0.1:9/callback",
        *,
        login: str = "alice",
        password: str = "any-password",
        choose: Chooser = allow,
        timeout: float = 10.0,
        max_steps: int = 20,
    ) -> None:
        self._redirect_uri = redirect_uri
        self.login = login
        self._password = password
        self._choose = choose
        self._timeout = timeout
        self._max_steps = max_steps
        self.pages: list[Page] = []
        self.cookies = httpx.Cookies()

    async def redirect_uri(self) -> str:
        return self._redirect_uri

    async def authorize(self, authorization_url: str) -> AuthorizationResponse:
        final = await self.run(authorization_url)
        return AuthorizationResponse.from_query(urlsplit(final).query)

    async def run(self, url: str) -> str:
        """The URL the flow redirects to at the client's redirect URI."""
        async with httpx.AsyncClient(timeout=self._timeout, cookies=self.cookies) as http:
            request = http.build_request("GET", url)
            for _ in range(self._max_steps):
                response = await http.send(request, follow_redirects=False)
                location = response.headers.get("location")
                if response.is_redirect and location is not None:
                    target = urljoin(str(response.url), location)
                    if target.startswith(self._redirect_uri):
                        return target
                    request = http.build_request("GET", target)
                    continue
                page = Page(
                    str(response.url), response.status_code, response.text, response.headers
                )
                self.pages.append(page)
                request = self._submit(http, page)
        raise AssertionError(f"no redirect to {self._redirect_uri} after {self._max_steps} steps")

    def _submit(self, http: httpx.AsyncClient, page: Page) -> httpx.Request:
        parser = _Forms()
        parser.feed(page.text)
        if page.status != 200 or not parser.forms:
            raise AssertionError(f"{page.url} answered {page.status} without a form:\n{page.text}")
        form = parser.forms[0]
        data = dict(form.fields)
        for name, kind in form.kinds.items():
            if kind == "password":
                data[name] = self._password
            elif kind in ("text", "email") and not data[name]:
                data[name] = self.login
        button = self._choose(page, form) or (form.buttons[0] if form.buttons else None)
        if button is not None and button[0]:
            data[button[0]] = button[1]
        action = urljoin(page.url, form.action or page.url)
        if form.method == "post":
            return http.build_request("POST", action, data=data)
        return http.build_request("GET", action, params=data)
