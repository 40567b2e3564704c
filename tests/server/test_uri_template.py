"""RFC 6570 URI templates (mcpkit.server.catalog.uri_template): expansion, matching, errors."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpkit.server.catalog.uri_template import UriTemplate

# The variables of RFC 6570's examples (sections 1.2 and 3.2).
RFC_VALUES: dict[str, Any] = {
    "var": "value",
    "hello": "Hello World!",
    "half": "50%",
    "path": "/foo/bar",
    "empty": "",
    "x": "1024",
    "y": "768",
    "list": ["red", "green", "blue"],
    "keys": {"semi": ";", "dot": ".", "comma": ","},
    "empty_keys": {},
    "undef": None,
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # Level 1
        ("{var}", "value"),
        ("{hello}", "Hello%20World%21"),
        ("{half}", "50%25"),
        # Level 2
        ("{+var}", "value"),
        ("{+hello}", "Hello%20World!"),
        ("{+path}/here", "/foo/bar/here"),
        ("here?ref={+path}", "here?ref=/foo/bar"),
        ("X{#var}", "X#value"),
        ("X{#hello}", "X#Hello%20World!"),
        # Level 3
        ("map?{x,y}", "map?1024,768"),
        ("{x,hello,y}", "1024,Hello%20World%21,768"),
        ("?{x,empty}", "?1024,"),
        ("?{x,undef}", "?1024"),
        ("?{undef,y}", "?768"),
        ("{+x,hello,y}", "1024,Hello%20World!,768"),
        ("{+path,x}/here", "/foo/bar,1024/here"),
        ("{#x,hello,y}", "#1024,Hello%20World!,768"),
        ("{#path,x}/here", "#/foo/bar,1024/here"),
        ("X{.var}", "X.value"),
        ("X{.x,y}", "X.1024.768"),
        ("{/var}", "/value"),
        ("{/var,x}/here", "/value/1024/here"),
        ("{;x,y}", ";x=1024;y=768"),
        ("{;x,y,empty}", ";x=1024;y=768;empty"),
        ("{?x,y}", "?x=1024&y=768"),
        ("{?x,y,empty}", "?x=1024&y=768&empty="),
        ("?fixed=yes{&x}", "?fixed=yes&x=1024"),
        ("{&x,y,empty}", "&x=1024&y=768&empty="),
        # Level 4
        ("{var:3}", "val"),
        ("{var:30}", "value"),
        ("{list}", "red,green,blue"),
        ("{list*}", "red,green,blue"),
        ("{keys}", "semi,%3B,dot,.,comma,%2C"),
        ("{keys*}", "semi=%3B,dot=.,comma=%2C"),
        ("{+path:6}/here", "/foo/b/here"),
        ("{+list}", "red,green,blue"),
        ("{+keys}", "semi,;,dot,.,comma,,"),
        ("{+keys*}", "semi=;,dot=.,comma=,"),
        ("{#path:6}/here", "#/foo/b/here"),
        ("{#list*}", "#red,green,blue"),
        ("{#keys*}", "#semi=;,dot=.,comma=,"),
        ("X{.var:3}", "X.val"),
        ("X{.list}", "X.red,green,blue"),
        ("X{.list*}", "X.red.green.blue"),
        ("X{.keys*}", "X.semi=%3B.dot=..comma=%2C"),
        ("{/var:1,var}", "/v/value"),
        ("{/list*}", "/red/green/blue"),
        ("{/list*,path:4}", "/red/green/blue/%2Ffoo"),
        ("{/keys*}", "/semi=%3B/dot=./comma=%2C"),
        ("{;hello:5}", ";hello=Hello"),
        ("{;list}", ";list=red,green,blue"),
        ("{;list*}", ";list=red;list=green;list=blue"),
        ("{;keys*}", ";semi=%3B;dot=.;comma=%2C"),
        ("{?var:3}", "?var=val"),
        ("{?list}", "?list=red,green,blue"),
        ("{?list*}", "?list=red&list=green&list=blue"),
        ("{?keys}", "?keys=semi,%3B,dot,.,comma,%2C"),
        ("{?keys*}", "?semi=%3B&dot=.&comma=%2C"),
        ("{&list*}", "&list=red&list=green&list=blue"),
        # Empty composites are undefined.
        ("{?empty_keys*}", ""),
        ("x{/undef}", "x"),
    ],
)
def test_rfc6570_expansion(template: str, expected: str) -> None:
    assert UriTemplate(template).expand(RFC_VALUES) == expected


def test_expand_takes_keywords_and_numbers() -> None:
    template = UriTemplate("items://{id}{?page}")
    assert template.expand(id=42, page=2) == "items://42?page=2"
    assert template.expand({"id": "a b"}, page=None) == "items://a%20b"
    assert template.expand(id="ü") == "items://%C3%BC"


def test_prefix_on_a_list_is_an_error() -> None:
    with pytest.raises(ValueError, match="prefix"):
        UriTemplate("{list:3}").expand(list=["a"])


def test_variables_in_order_without_repeats() -> None:
    template = UriTemplate("db://{schema}/{table}{?limit,offset}{&schema}")
    assert template.variables == ["schema", "table", "limit", "offset"]
    assert UriTemplate("plain://no/vars").variables == []
    assert UriTemplate("{user.id}{a%20b}").variables == ["user.id", "a%20b"]


# ------------------------------------------------------------------ matching


@pytest.mark.parametrize(
    ("template", "uri", "expected"),
    [
        ("users://{id}/profile", "users://42/profile", {"id": "42"}),
        ("users://{id}/profile", "users://a%2Fb/profile", {"id": "a/b"}),
        ("users://{id}/profile", "users://%C3%BC/profile", {"id": "ü"}),
        ("file:///{+path}", "file:///a/b/c.txt", {"path": "a/b/c.txt"}),
        ("file:///{+path}", "file:///a%20b", {"path": "a b"}),
        ("s://x{?q,lang}", "s://x?lang=en&q=hi%20there", {"q": "hi there", "lang": "en"}),
        ("s://x{?q,lang}", "s://x?q=1", {"q": "1"}),
        ("s://x{?q,lang}", "s://x", {}),
        ("s://x{?q}", "s://x?other=1&q=2", {"q": "2"}),
        ("s://x{?q}{&p}", "s://x?q=1&p=2", {"q": "1", "p": "2"}),
        ("s://x{?q*}", "s://x?q=1&q=2", {"q": "1,2"}),
        ("s://{a}{/b,c}", "s://x/y", {"a": "x", "b": "y"}),
        ("s://{a}{/b,c}", "s://x/y/z", {"a": "x", "b": "y", "c": "z"}),
        ("s://{a}{/b*}", "s://x/y/z", {"a": "x", "b": "y/z"}),
        ("s://{a}{.ext}", "s://f.txt", {"a": "f", "ext": "txt"}),
        ("s://{a}{.ext}", "s://f.tar.gz", {"a": "f.tar", "ext": "gz"}),
        ("s://m{;x,y}", "s://m;x=1;y", {"x": "1", "y": ""}),
        ("s://m{;x,y}", "s://m;y=2", {"y": "2"}),
        ("s://{a,b}", "s://1,2", {"a": "1", "b": "2"}),
        ("s://{a}{#f}", "s://1#frag/x", {"a": "1", "f": "frag/x"}),
        ("s://{x}/{x}", "s://1/1", {"x": "1"}),
        ("s://{+base}{?q}", "s://h/x?q=1", {"base": "h/x", "q": "1"}),
        ("s://{+a}/{b}", "s://x/y/z", {"a": "x/y", "b": "z"}),
        ("files://{path*}", "files://a/b/c.txt", {"path": "a/b/c.txt"}),  # FastMCP's wildcard
        ("files://{path*}", "files://notes", {"path": "notes"}),
        ("files://{path*}/meta", "files://a/b/meta", {"path": "a/b"}),
        ("files://{path*}{?rev}", "files://a/b?rev=2", {"path": "a/b", "rev": "2"}),
        ("s://{list*}", "s://red,green", {"list": "red,green"}),
        ("weird://{user.id}", "weird://7", {"user.id": "7"}),
        ("a.b+c://{x}", "a.b+c://1", {"x": "1"}),
        ("plain://exact", "plain://exact", {}),
    ],
)
def test_match(template: str, uri: str, expected: dict[str, str]) -> None:
    assert UriTemplate(template).match(uri) == expected


@pytest.mark.parametrize(
    ("template", "uri"),
    [
        ("users://{id}/profile", "users:///profile"),  # a plain variable is never empty
        ("users://{id}/profile", "users://a/b/profile"),  # ...and never spans a '/'
        ("users://{id}", "users://1?x=2"),
        ("users://{id}", "users://1#top"),
        ("users://{id}", "other://1"),
        ("s://{x}/{x}", "s://1/2"),  # a repeated variable must agree
        ("plain://exact", "plain://exactly"),
        ("s://{a}.txt", "s://a.json"),
        ("files://{path*}", "files://"),  # a wildcard is never empty either
    ],
)
def test_no_match(template: str, uri: str) -> None:
    assert UriTemplate(template).match(uri) is None


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("a{b", "unclosed '{' at position 1"),
        ("a}b", "'}' without '{' at position 1"),
        ("x{}", "empty expression at position 1"),
        ("{a{b}}", "'{' inside an expression at position 2"),
        ("{=a}", "operator '=' is reserved for future extensions at position 1"),
        ("{|a}", "operator '|' is reserved"),
        ("ab{a b}", "invalid variable 'a b' at position 3"),
        ("{a:0}", "invalid variable 'a:0' at position 1"),
        ("{a:10000}", "invalid variable 'a:10000'"),
        ("{x,}", "invalid variable '' at position 3"),
        ("{?x,-y}", "invalid variable '-y' at position 4"),
        ("{a%2}", "invalid variable 'a%2'"),
    ],
)
def test_invalid_templates_name_the_position(template: str, message: str) -> None:
    with pytest.raises(ValueError, match="invalid URI template") as info:
        UriTemplate(template)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "template",
    [
        "files://{path*}",
        "files://{+path}",
        "s://x{?q*}",
        "s://{a}{/b*}",
        "s://{a,b*}",
        "s://x{;p}",
        "s://{x:3}{.ext}",
    ],
)
def test_matchable_templates_pass(template: str) -> None:
    UriTemplate(template).check_matchable()


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("s://x{;p*}", "{;p*} cannot be matched"),
        ("s://x{;a,p*}", "use {;p} for one value, or {?p*}"),
        ("s://{/a*,b}", "in {/a*,b} the exploded 'a' takes the rest"),
        ("s://{.a*,b:2}", "in {.a*,b:2} the exploded 'a'"),
        ("s://{a*,b}", "put the exploded variable last"),
    ],
)
def test_unmatchable_templates_are_refused(template: str, message: str) -> None:
    parsed = UriTemplate(template)  # expanding it is fine: only a server must match it
    with pytest.raises(ValueError, match=r"cannot be matched|takes the rest") as info:
        parsed.check_matchable()
    assert message in str(info.value)


def test_templates_compare_by_text() -> None:
    assert UriTemplate("a://{x}") == UriTemplate("a://{x}")
    assert UriTemplate("a://{x}") != UriTemplate("a://{y}")
    assert len({UriTemplate("a://{x}"), UriTemplate("a://{x}")}) == 1
    assert str(UriTemplate("a://{x}")) == "a://{x}"
    assert repr(UriTemplate("a://{x}")) == "UriTemplate('a://{x}')"


# ------------------------------------------------------------------ round trips
# The utf-8 codec leaves out lone surrogates, which no URI can carry. Hypothesis's
# per-example deadline is turned off: a slow machine must not fail a test.

TEXT = st.text(st.characters(codec="utf-8"), max_size=20)
NON_EMPTY = st.text(st.characters(codec="utf-8"), min_size=1, max_size=20)
# Reserved expansion leaves reserved characters and %XX as they are, so a value that holds
# them cannot be told from the template's own structure: keep to the rest.
RESERVED_SAFE = st.text(
    st.characters(codec="utf-8", exclude_characters="%?#,"),
    min_size=1,
    max_size=20,
)
NO_DOT = st.text(st.characters(codec="utf-8", exclude_characters="."), max_size=20)


@settings(deadline=None)
@given(a=NON_EMPTY, b=NON_EMPTY)
def test_simple_round_trip(a: str, b: str) -> None:
    template = UriTemplate("users://{a}/posts/{b}")
    assert template.match(template.expand(a=a, b=b)) == {"a": a, "b": b}


@settings(deadline=None)
@given(a=NON_EMPTY, b=NON_EMPTY)
def test_multi_variable_round_trip(a: str, b: str) -> None:
    template = UriTemplate("pair://{a,b}")
    assert template.match(template.expand(a=a, b=b)) == {"a": a, "b": b}


@settings(deadline=None)
@given(path=RESERVED_SAFE, frag=RESERVED_SAFE)
def test_reserved_and_fragment_round_trip(path: str, frag: str) -> None:
    template = UriTemplate("file:///{+path}{#frag}")
    assert template.match(template.expand(path=path, frag=frag)) == {"path": path, "frag": frag}


@settings(deadline=None)
@given(a=NON_EMPTY, seg=NO_DOT, ext=NO_DOT)
def test_path_and_label_round_trip(a: str, seg: str, ext: str) -> None:
    # '.' is unreserved, so it is not encoded: a dot before `{.ext}` would be ambiguous.
    template = UriTemplate("s://{a}{/seg}{.ext}")
    assert template.match(template.expand(a=a, seg=seg, ext=ext)) == {
        "a": a,
        "seg": seg,
        "ext": ext,
    }


OPTIONAL = st.one_of(st.none(), TEXT)


@settings(deadline=None)
@given(p=OPTIONAL, q=OPTIONAL, lang=OPTIONAL, page=OPTIONAL)
def test_query_round_trip(p: str | None, q: str | None, lang: str | None, page: str | None) -> None:
    template = UriTemplate("search://items{;p}{?q,lang,page}")
    values = {"p": p, "q": q, "lang": lang, "page": page}
    expected = {k: v for k, v in values.items() if v is not None}
    assert template.match(template.expand(values)) == expected


@settings(deadline=None)
@given(x=OPTIONAL, y=OPTIONAL)
def test_query_continuation_round_trip(x: str | None, y: str | None) -> None:
    template = UriTemplate("search://items?fixed=yes{&x,y}")
    expected = {k: v for k, v in {"x": x, "y": y}.items() if v is not None}
    assert template.match(template.expand(x=x, y=y)) == expected
