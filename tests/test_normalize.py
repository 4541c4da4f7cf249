"""scanners.normalize: every accepted shape of a pasted link, the rejections, and properties.

The table cases pin what a browser (WHATWG URL standard) would do with the link
once de-obfuscated; the hypothesis properties check that normalize never fails
in an unexpected way, is idempotent on its own output, and keeps the host.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from scanners.errors import InvalidURLError
from scanners.normalize import MAX_HOST_CHARS, MAX_INPUT_CHARS, ParsedURL, normalize

GOV = "dichvucong.gov.vn"

# --------------------------------------------------------------------------
# Accepted forms
# --------------------------------------------------------------------------

# (input, url, host, registrable_domain, scheme_given, port, deobfuscated)
ACCEPTED: list[tuple[str, str, str, str, bool, int | None, tuple[str, ...]]] = [
    # full URLs and bare hosts
    (GOV, "http://dichvucong.gov.vn/", GOV, GOV, False, None, ()),
    ("https://dichvucong.gov.vn/", "https://dichvucong.gov.vn/", GOV, GOV, True, None, ()),
    ("http://dichvucong.gov.vn", "http://dichvucong.gov.vn/", GOV, GOV, True, None, ()),
    ("https://dichvucong.gov.vn/p/home?x=1#top", "https://dichvucong.gov.vn/p/home?x=1#top",
     GOV, GOV, True, None, ()),
    ("dichvucong.gov.vn/p/home", "http://dichvucong.gov.vn/p/home", GOV, GOV, False, None, ()),
    ("example.com?q=1", "http://example.com/?q=1", "example.com", "example.com", False, None,
     ()),
    ("example.com#frag", "http://example.com/#frag", "example.com", "example.com", False, None,
     ()),
    ("//example.com/a", "http://example.com/a", "example.com", "example.com", False, None, ()),
    ("localhost", "http://localhost/", "localhost", "", False, None, ()),
    # defanged
    ("hxxp://dichvucong.gov.vn", "http://dichvucong.gov.vn/", GOV, GOV, True, None, ("hxxp",)),
    ("hxxps://dichvucong.gov.vn/a", "https://dichvucong.gov.vn/a", GOV, GOV, True, None,
     ("hxxp",)),
    ("HXXPS://example.com", "https://example.com/", "example.com", "example.com", True, None,
     ("hxxp",)),
    ("dichvucong[.]gov[.]vn", "http://dichvucong.gov.vn/", GOV, GOV, False, None, ("[.]",)),
    ("hxxps://dichvucong[.]gov[.]vn/a", "https://dichvucong.gov.vn/a", GOV, GOV, True, None,
     ("hxxp", "[.]")),
    ("dichvucong(.)gov(.)vn", "http://dichvucong.gov.vn/", GOV, GOV, False, None, ("[.]",)),
    ("dichvucong(dot)gov(dot)vn", "http://dichvucong.gov.vn/", GOV, GOV, False, None,
     ("[.]",)),
    ("dichvucong[dot]gov[dot]vn", "http://dichvucong.gov.vn/", GOV, GOV, False, None,
     ("[.]",)),
    ("dichvucong{.}gov{.}vn", "http://dichvucong.gov.vn/", GOV, GOV, False, None, ("[.]",)),
    ("dichvucong[ . ]gov[ . ]vn", "http://dichvucong.gov.vn/", GOV, GOV, False, None,
     ("[.]",)),
    ("dichvucong . gov . vn", "http://dichvucong.gov.vn/", GOV, GOV, False, None, ("spaces",)),
    ("dichvucong dot gov dot vn", "http://dichvucong.gov.vn/", GOV, GOV, False, None,
     ("dot-word",)),
    ("dichvucong chấm gov chấm vn", "http://dichvucong.gov.vn/", GOV, GOV, False, None,
     ("dot-word",)),
    ("hxxp[:]//example[.]com", "http://example.com/", "example.com", "example.com", True, None,
     ("hxxp", "[.]", "[:]")),
    # zero-width characters inside the host
    ("dichvu\u200bcong.gov.vn", "http://dichvucong.gov.vn/", GOV, GOV, False, None,
     ("zero-width",)),
    ("dichvu\u200ccong.gov.vn", "http://dichvucong.gov.vn/", GOV, GOV, False, None,
     ("zero-width",)),
    ("dichvu\u200dcong.gov.vn", "http://dichvucong.gov.vn/", GOV, GOV, False, None,
     ("zero-width",)),
    ("\ufeffdichvucong.gov\ufeff.vn", "http://dichvucong.gov.vn/", GOV, GOV, False, None,
     ("zero-width",)),
    ("dichvu\u00adcong.gov.vn", "http://dichvucong.gov.vn/", GOV, GOV, False, None,
     ("zero-width",)),
    # full-width forms and other IDNA dots
    ("ｄｉｃｈｖｕｃｏｎｇ．ｇｏｖ．ｖｎ", "http://dichvucong.gov.vn/", GOV, GOV, False, None,
     ("full-width",)),
    ("dichvucong。gov。vn", "http://dichvucong.gov.vn/", GOV, GOV, False, None, ("full-width",)),
    ("dichvucong｡gov｡vn", "http://dichvucong.gov.vn/", GOV, GOV, False, None, ("full-width",)),
    ("ｈｔｔｐｓ：／／ｄｉｃｈｖｕｃｏｎｇ．ｇｏｖ．ｖｎ／", "https://dichvucong.gov.vn/", GOV, GOV,
     True, None, ("full-width",)),
    # userinfo trick: the browser goes to the host after '@'
    ("https://dichvucong.gov.vn@evil.top/", "https://evil.top/", "evil.top", "evil.top", True,
     None, ()),
    ("dichvucong.gov.vn@evil.top", "http://evil.top/", "evil.top", "evil.top", False, None, ()),
    ("https://user:pass@evil.top/x", "https://evil.top/x", "evil.top", "evil.top", True, None,
     ()),
    # IPv4: dotted, decimal, hex, octal, short
    ("192.168.1.1", "http://192.168.1.1/", "192.168.1.1", "", False, None, ()),
    ("http://3232235777/", "http://192.168.1.1/", "192.168.1.1", "", True, None, ()),
    ("3232235777", "http://192.168.1.1/", "192.168.1.1", "", False, None, ()),
    ("0xC0A80101", "http://192.168.1.1/", "192.168.1.1", "", False, None, ()),
    ("0xc0a80101", "http://192.168.1.1/", "192.168.1.1", "", False, None, ()),
    ("0xC0.0xA8.1.1", "http://192.168.1.1/", "192.168.1.1", "", False, None, ()),
    ("0300.0250.1.1", "http://192.168.1.1/", "192.168.1.1", "", False, None, ()),
    ("0300.0250.0.01", "http://192.168.0.1/", "192.168.0.1", "", False, None, ()),
    ("192.168.257", "http://192.168.1.1/", "192.168.1.1", "", False, None, ()),
    ("192.11010305", "http://192.168.1.1/", "192.168.1.1", "", False, None, ()),
    ("127.1", "http://127.0.0.1/", "127.0.0.1", "", False, None, ()),
    ("1.2.3.4.", "http://1.2.3.4/", "1.2.3.4", "", False, None, ()),
    ("https://192.168.1.1:8443/login", "https://192.168.1.1:8443/login", "192.168.1.1", "",
     True, 8443, ()),
    # IPv6 in brackets
    ("http://[::1]:8080/x", "http://[::1]:8080/x", "[::1]", "", True, 8080, ()),
    ("http://[2001:DB8:0:0::1]/", "http://[2001:db8::1]/", "[2001:db8::1]", "", True, None, ()),
    ("http://[::1]", "http://[::1]/", "[::1]", "", True, None, ()),
    ("[2001:db8::1]", "http://[2001:db8::1]/", "[2001:db8::1]", "", False, None, ()),
    ("[::1]:8080", "http://[::1]:8080/", "[::1]", "", False, 8080, ()),
    ("https://[::ffff:192.168.1.1]/", "https://[::ffff:c0a8:101]/", "[::ffff:c0a8:101]", "",
     True, None, ()),
    # ports
    ("https://example.com:443/", "https://example.com/", "example.com", "example.com", True,
     None, ()),
    ("http://example.com:80/", "http://example.com/", "example.com", "example.com", True, None,
     ()),
    ("https://example.com:80/", "https://example.com:80/", "example.com", "example.com", True,
     80, ()),
    ("http://example.com:8080/a", "http://example.com:8080/a", "example.com", "example.com",
     True, 8080, ()),
    ("example.com:8080", "http://example.com:8080/", "example.com", "example.com", False, 8080,
     ()),
    ("example.com:8080/path", "http://example.com:8080/path", "example.com", "example.com",
     False, 8080, ()),
    ("example.com:80", "http://example.com/", "example.com", "example.com", False, None, ()),
    ("localhost:3000", "http://localhost:3000/", "localhost", "", False, 3000, ()),
    ("http://example.com:/", "http://example.com/", "example.com", "example.com", True, None,
     ()),
    # trailing dot, case
    ("example.com.", "http://example.com/", "example.com", "example.com", False, None, ()),
    ("https://dichvucong.gov.vn./a", "https://dichvucong.gov.vn/a", GOV, GOV, True, None, ()),
    ("EXAMPLE.COM", "http://example.com/", "example.com", "example.com", False, None, ()),
    ("HTTPS://Example.COM/Path", "https://example.com/Path", "example.com", "example.com", True,
     None, ()),
    # decoration from chats: quotes, brackets, trailing punctuation, whitespace
    ("'example.com'", "http://example.com/", "example.com", "example.com", False, None, ()),
    ('"example.com"', "http://example.com/", "example.com", "example.com", False, None, ()),
    ("“example.com”", "http://example.com/", "example.com", "example.com", False, None, ()),
    ("«example.com»", "http://example.com/", "example.com", "example.com", False, None, ()),
    ("(example.com)", "http://example.com/", "example.com", "example.com", False, None, ()),
    ("[example.com]", "http://example.com/", "example.com", "example.com", False, None, ()),
    ("<https://example.com/x>", "https://example.com/x", "example.com", "example.com", True,
     None, ()),
    ("example.com.,", "http://example.com/", "example.com", "example.com", False, None, ()),
    ("example.com!", "http://example.com/", "example.com", "example.com", False, None, ()),
    ("https://example.com/a?", "https://example.com/a", "example.com", "example.com", True,
     None, ()),
    ("(https://example.com/a).", "https://example.com/a", "example.com", "example.com", True,
     None, ()),
    ("  example.com \n", "http://example.com/", "example.com", "example.com", False, None, ()),
    ("example.com\n", "http://example.com/", "example.com", "example.com", False, None, ()),
    ("https://en.wikipedia.org/wiki/Foo_(bar)", "https://en.wikipedia.org/wiki/Foo_(bar)",
     "en.wikipedia.org", "wikipedia.org", True, None, ()),
    ("(https://en.wikipedia.org/wiki/Foo_(bar))", "https://en.wikipedia.org/wiki/Foo_(bar)",
     "en.wikipedia.org", "wikipedia.org", True, None, ()),
    ("dichvucong[.]gov[.]vn[.]", "http://dichvucong.gov.vn/", GOV, GOV, False, None, ("[.]",)),
    # junk is stripped to a fixed point, even with spaces between (found by hypothesis)
    ("x.com/a) .", "http://x.com/a", "x.com", "x.com", False, None, ()),
    ("0\\. .", "http://0.0.0.0/", "0.0.0.0", "", False, None, ()),
    ("( example.com ) ,", "http://example.com/", "example.com", "example.com", False, None, ()),
    # backslashes (browsers read them as slashes)
    ("https:\\\\example.com\\a", "https://example.com/a", "example.com", "example.com", True,
     None, ()),
    ("example.com\\a\\b", "http://example.com/a/b", "example.com", "example.com", False, None,
     ()),
    # a backslash is a slash before the spaces rule runs (found by hypothesis)
    ("x.com/a\\ b", "http://x.com/a/b", "x.com", "x.com", False, None, ("spaces",)),
    # registrable domain under ICANN suffixes
    ("x.weebly.com", "http://x.weebly.com/", "x.weebly.com", "weebly.com", False, None, ()),
    ("a.b.gov.vn", "http://a.b.gov.vn/", "a.b.gov.vn", "b.gov.vn", False, None, ()),
    ("shop.example.com.vn", "http://shop.example.com.vn/", "shop.example.com.vn",
     "example.com.vn", False, None, ()),
    ("foo.github.io", "http://foo.github.io/", "foo.github.io", "github.io", False, None, ()),
    ("a.b.c.d.e", "http://a.b.c.d.e/", "a.b.c.d.e", "", False, None, ()),
]


@pytest.mark.parametrize(
    ("text", "url", "host", "registrable", "scheme_given", "port", "tricks"),
    ACCEPTED,
    ids=[repr(c[0])[:60] for c in ACCEPTED],
)
def test_accepted(
    text: str,
    url: str,
    host: str,
    registrable: str,
    scheme_given: bool,
    port: int | None,
    tricks: tuple[str, ...],
) -> None:
    p = normalize(text)
    assert isinstance(p, ParsedURL)
    assert p.input == text
    assert p.url == url
    assert p.host == host
    assert p.registrable_domain == registrable
    assert p.scheme_given is scheme_given
    assert p.port == port
    assert p.deobfuscated == tricks
    assert p.url.startswith(f"{p.scheme}://")
    assert p.path.startswith("/")
    # The canonical form is a fixed point.
    again = normalize(p.url)
    assert (again.url, again.host, again.registrable_domain) == (p.url, p.host,
                                                                  p.registrable_domain)
    assert again.deobfuscated == ()


def test_fields_of_a_full_url() -> None:
    p = normalize("https://Shop.Example.com.vn:8443/a/b?c=d#e")
    assert p.scheme == "https"
    assert p.host == p.host_unicode == "shop.example.com.vn"
    assert p.port == 8443
    assert p.path == "/a/b?c=d#e"
    assert p.userinfo is None
    assert p.ip is None
    assert (p.subdomain, p.domain, p.suffix) == ("shop", "example", "com.vn")
    assert p.registrable_domain == "example.com.vn"
    assert p.labels == ("shop", "example", "com", "vn")
    assert p.subdomain_labels == ("shop",)


def test_userinfo_is_kept() -> None:
    p = normalize("https://dichvucong.gov.vn@evil.top/")
    assert p.userinfo == GOV
    assert p.host == "evil.top"
    assert p.registrable_domain == "evil.top"
    assert normalize("https://a@b@evil.top/").userinfo == "a@b"
    assert normalize("https://evil.top/").userinfo is None


def test_ip_fields() -> None:
    p = normalize("0xC0.0xA8.1.1")
    assert p.ip == p.host == "192.168.1.1"
    assert p.labels == ()
    assert (p.subdomain, p.domain, p.suffix, p.registrable_domain) == ("", "", "", "")
    p6 = normalize("http://[2001:db8::1]:8080/")
    assert p6.ip == "2001:db8::1"
    assert p6.host == "[2001:db8::1]"
    assert p6.labels == ()


# --------------------------------------------------------------------------
# IDN
# --------------------------------------------------------------------------

IDN = [
    ("bộcôngan.vn", "xn--bcngan-jxa6332d.vn"),
    ("dịchvụcông.vn", "xn--dchvcng-x0a0689dsha.vn"),
    ("münchen.de", "xn--mnchen-3ya.de"),
    ("пример.рф", "xn--e1afmkfd.xn--p1ai"),
]


@pytest.mark.parametrize(("uni", "puny"), IDN)
def test_idn_both_directions_agree(uni: str, puny: str) -> None:
    a = normalize(uni)
    b = normalize(puny)
    c = normalize(f"https://{uni.upper()}/x")
    for p in (a, b, c):
        assert p.host == puny
        assert p.host_unicode == uni
        assert p.host.isascii()
    assert a.url == b.url == f"http://{puny}/"
    assert a.registrable_domain == b.registrable_domain == c.registrable_domain
    assert normalize(a.url).host_unicode == uni


def test_idn_registrable_domain_is_punycode() -> None:
    p = normalize("https://www.bộcôngan.vn/")
    assert p.registrable_domain == "xn--bcngan-jxa6332d.vn"
    assert p.subdomain == "www"


def test_full_width_idn_dot() -> None:
    assert normalize("bộcôngan。vn").host == "xn--bcngan-jxa6332d.vn"


def test_undecodable_punycode_label_is_shown_as_is() -> None:
    # "xn--a" is not valid punycode; browsers show it unchanged and so do we.
    p = normalize("xn--a.com")
    assert p.host == p.host_unicode == "xn--a.com"


# --------------------------------------------------------------------------
# Rejections
# --------------------------------------------------------------------------

REJECTED: list[tuple[Any, str]] = [
    ("", "empty"),
    ("   ", "empty"),
    ("\t\n", "empty"),
    ("''", "empty"),
    ("\u200b", "empty"),
    ("ftp://example.com", "scheme 'ftp'"),
    ("FTP://example.com", "scheme 'ftp'"),
    ("fxp://example.com", "scheme 'ftp'"),
    ("javascript:alert(1)", "scheme 'javascript'"),
    ("mailto:a@example.com", "scheme 'mailto'"),
    ("data:text/html,<b>hi</b>", "scheme 'data'"),
    ("file:///etc/passwd", "scheme 'file'"),
    ("exa mple.com", "spaces"),
    ("http://exa mple.com/", "spaces"),
    ("https://dichvu cong.gov.vn/", "spaces"),
    ("example.com:99999", "out of range"),
    ("http://example.com:65536/", "out of range"),
    ("http://example.com:abc/", "not a number"),
    ("http://example.com:8o/", "not a number"),
    ("http://example.com:-1/", "not a number"),
    ("1.2.3.4.5", "not an IPv4"),
    ("256.1.1.1", "out of range"),
    ("1.2.3.256", "out of range"),
    ("4294967296", "out of range"),
    ("1.2.3.09", "octal"),
    ("a.b.1", "not an IPv4"),
    ("-bad-.com", "not a valid DNS label"),
    ("bad-.com", "not a valid DNS label"),
    ("a..b", "empty label"),
    (".example.com", "not a valid"),
    ("x" * (MAX_INPUT_CHARS + 1), f"longer than {MAX_INPUT_CHARS}"),
    ("https://example.com/" + "a" * MAX_INPUT_CHARS, f"longer than {MAX_INPUT_CHARS}"),
    ("a" * 64 + ".com", "not a valid DNS label"),
    (".".join(["a" * 60] * 5), f"longer than {MAX_HOST_CHARS}"),
    ("a\x00b.com", "NUL"),
    ("https://example.com/\x00", "NUL"),
    (123, "not text"),
    (None, "not text"),
    (b"example.com", "not text"),
    ("http://", "no host"),
    ("https:///", "no host"),
    ("http://@/", "no host"),
    ("http://[::1", "unterminated IPv6"),
    ("http://[zz]/", "invalid IPv6"),
    ("http://[::1]x/", "after the IPv6"),
    ("http://exa<mple.com/", "not allowed"),
    ("http://exa%41mple.com/", "not allowed"),
    ("http://a_b!.com/", "not a valid"),
]


@pytest.mark.parametrize(("text", "reason"), REJECTED, ids=[repr(c[0])[:40] for c in REJECTED])
def test_rejected_with_reason(text: Any, reason: str) -> None:
    with pytest.raises(InvalidURLError) as ei:
        normalize(text)
    err = ei.value
    assert reason in err.reason
    assert str(err) == err.reason
    # Readable: one short line, no traceback or repr of internals.
    assert "\n" not in err.reason
    assert len(err.reason) < 400


def test_port_letters_without_scheme_are_rejected() -> None:
    # "example.com:abc" is a URL with scheme "example.com" by the grammar; either
    # way it is not a web link and must not be accepted.
    with pytest.raises(InvalidURLError):
        normalize("example.com:abc")


def test_long_input_reason_does_not_echo_the_input() -> None:
    with pytest.raises(InvalidURLError) as ei:
        normalize("a" * 10_000)
    assert len(ei.value.reason) < 100


def test_max_lengths_are_inclusive() -> None:
    label = "a" * 63
    assert normalize(f"{label}.com").host == f"{label}.com"
    host = ".".join(["a" * 63] * 3 + ["b" * 61])
    assert len(host) == MAX_HOST_CHARS
    assert normalize(host).host == host
    text = "https://example.com/" + "a" * (MAX_INPUT_CHARS - len("https://example.com/"))
    assert len(text) == MAX_INPUT_CHARS
    assert normalize(text).host == "example.com"


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------

PROPS = settings(max_examples=300, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow])

_text = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=200),
    st.text(alphabet=st.sampled_from("hxtps:/.[]()@%\\0123456789abcxn-[.]:\u200b．。 \t\n\x00"),
            max_size=80),
    st.text(min_size=8000, max_size=10_000, alphabet=st.characters(max_codepoint=0x7F)),
    st.builds(lambda a, b: a + "://" + b, st.sampled_from(["http", "https", "hxxp", "ftp"]),
              st.text(max_size=200)),
)


@PROPS
@given(_text)
@example("a\n")  # the fast path once kept the newline in the host
@example("\ud800.com")  # lone surrogate
@example("http://[" + ":" * 5000 + "]/")
@example(")" * 9000)
@pytest.mark.slow
def test_never_crashes(text: str) -> None:
    try:
        p = normalize(text)
    except InvalidURLError as e:
        assert isinstance(e.reason, str) and e.reason
        return
    assert isinstance(p, ParsedURL)
    assert p.host
    assert p.url.startswith(("http://", "https://"))
    assert p.host.isascii()
    assert not any(c.isspace() for c in p.host)


# Realistic hosts: DNS labels of [a-z0-9-], not starting or ending with '-',
# and not "xn--" (an A-label, whose Unicode form differs; IDN cases cover those).
_label = st.from_regex(r"\A[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?\Z").filter(
    lambda s: not s.startswith("xn--"))
_uni_label = st.sampled_from(["bộcôngan", "dịchvụcông", "münchen", "ngânhàng", "việt",
                              "công-an", "thuế", "пример"])
_tld = st.sampled_from(["com", "vn", "gov.vn", "com.vn", "top", "cc", "xyz", "org", "net",
                        "weebly.com", "github.io", "co.uk"])


@st.composite
def _hosts(draw: st.DrawFn, unicode: bool = True) -> str:
    labels = draw(st.lists(_uni_label | _label if unicode else _label, min_size=1, max_size=4))
    host = ".".join([*labels, draw(_tld)])
    # The suffix is never numeric, so a generated name is never an IPv4 shape.
    return host


_path = st.one_of(
    st.just(""),
    st.from_regex(r"\A/[A-Za-z0-9._~/-]{0,30}(?:\?[a-z0-9=&]{0,20})?(?:#[a-z0-9]{0,10})?\Z"),
)


def _defang(host: str, how: str) -> str:
    if how == "[.]":
        return host.replace(".", "[.]")
    if how == "(.)":
        return host.replace(".", "(.)")
    if how == "(dot)":
        return host.replace(".", "(dot)")
    if how == "[dot]":
        return host.replace(".", "[dot]")
    if how == " . ":
        return host.replace(".", " . ")
    if how == "zero-width":
        return "\u200b".join(host[i: i + 3] for i in range(0, len(host), 3))
    if how == "full-width":
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in host)
    if how == "。":
        return host.replace(".", "。")
    return host


_DEFANGS = ["", "[.]", "(.)", "(dot)", "[dot]", " . ", "zero-width", "full-width", "。"]
_ZW = "\u200b\u200c\u200d\ufeff\u00ad"


@st.composite
def _decorated(draw: st.DrawFn) -> tuple[str, str]:
    """(decorated input, canonical lower-case host) for a generated host."""
    host = draw(_hosts(unicode=False))
    canonical = host
    s = host
    if draw(st.booleans()):
        s = "".join(c.upper() if draw(st.booleans()) else c for c in s)
    s = _defang(s, draw(st.sampled_from(_DEFANGS)))
    if draw(st.booleans()):
        # Zero-width characters anywhere inside the host.
        pos = draw(st.integers(0, len(s)))
        s = s[:pos] + draw(st.sampled_from(_ZW)) + s[pos:]
    if draw(st.booleans()):
        s += "."
    port = draw(st.sampled_from(["", ":8080", ":443", ":80", ":1"]))
    path = draw(_path)
    scheme = draw(st.sampled_from(["", "http://", "https://", "hxxp://", "hxxps://", "HTTPS://",
                                   "//", "https:\\\\"]))
    s = f"{scheme}{s}{port}{path}"
    wrap = draw(st.sampled_from(["", "''", "\"\"", "()", "<>", "[]", "“”", "  ", "\n"]))
    if wrap:
        s = wrap[0] + s + wrap[-1]
    if draw(st.booleans()):
        s += draw(st.sampled_from([".", ",", "!", "?", ").", "."]))
    return s, canonical


@st.composite
def _urls(draw: st.DrawFn) -> str:
    host = draw(_hosts())
    how = draw(st.sampled_from(_DEFANGS))
    if how in ("full-width", "zero-width", "。") and not host.isascii():
        how = ""
    s = _defang(host, how)
    scheme = draw(st.sampled_from(["", "http://", "https://", "hxxps://"]))
    port = draw(st.sampled_from(["", ":8080", ":443"]))
    return f"{scheme}{s}{port}{draw(_path)}"


@PROPS
@given(_urls())
@pytest.mark.slow
def test_idempotent(text: str) -> None:
    p = normalize(text)
    q = normalize(p.url)
    assert (q.url, q.host, q.registrable_domain, q.host_unicode) == (
        p.url, p.host, p.registrable_domain, p.host_unicode)
    assert q.scheme_given


@PROPS
@given(_text)
@example("a\n")
@example("0\\. .")  # junk stripping once stopped at the space
@example("0\\ 0")  # "\\ " once became "/ " only after the spaces rule ran
@example("https://en.wikipedia.org/wiki/Foo_(bar)")
@pytest.mark.slow
def test_idempotent_on_anything_accepted(text: str) -> None:
    try:
        p = normalize(text)
    except InvalidURLError:
        return
    q = normalize(p.url)
    assert (q.url, q.host, q.registrable_domain) == (p.url, p.host, p.registrable_domain)


@PROPS
@given(st.text(alphabet=st.characters(blacklist_categories=()), max_size=120))
@example("http://a.com/\ud800")
@example("a\udcffb.com")
@example("https://example.org/ok\ud83d\ude00")
@pytest.mark.slow
def test_anything_accepted_can_be_reported(text: str) -> None:
    # Lone UTF-16 surrogates included (a JSON escape, a DEX string, a shell argument
    # that is not UTF-8), which st.text() leaves out: what normalize accepts gives a
    # report that every output (orjson, the terminal) can write.
    import orjson

    from scanners.report import url_report
    from scanners.url_offline import default_scanner

    try:
        p = normalize(text)
    except InvalidURLError as e:
        assert e.reason
        return
    report = url_report(p, default_scanner().check(p), "vi")
    orjson.dumps(report)
    str(report).encode("utf-8")


@PROPS
@given(_decorated())
@pytest.mark.slow
def test_keeps_the_host(case: tuple[str, str]) -> None:
    text, canonical = case
    p = normalize(text)
    assert p.host == canonical
    assert p.host_unicode == canonical
    assert p.port in (None, 8080, 443, 80, 1)
    assert p.registrable_domain == normalize(canonical).registrable_domain


# The split reuses a cached parent's (scanners.normalize._suffix_parts): it must
# agree with tldextract itself where the public-suffix trie goes deeper than one
# label (wildcards, exceptions, private and unlisted suffixes, punycode).
_SUFFIX_CASES = [
    "a.b.c.kawasaki.jp", "www.city.kawasaki.jp", "x.city.kawasaki.jp", "x.y.foo.ck",
    "x.www.ck", "a.b.example.local", "a.b.c.co.uk", "a.b.sch.uk", "q.x.y.sch.uk",
    "a.blogspot.com", "x.y.z.s3.amazonaws.com", "b.a.github.io", "a.b.compute-1.amazonaws.com",
    "s1.google.com", "s2.www.google.com", "m.x.dichvucong.gov.vn", "a.b.c.d.e.f.g.com.vn",
    "a.xn--vietcombnk-7za.com", "b.a.xn--p1ai", "a.b.xn--55qx5d.cn", "s.x.hgov.cc",
]


@pytest.mark.parametrize("host", _SUFFIX_CASES)
def test_suffix_split_agrees_with_tldextract(host: str) -> None:
    from scanners.normalize import _EXTRACT, _suffix_parts

    # Parents first, then the host, as traffic fills the cache.
    labels = host.split(".")
    for i in range(len(labels) - 1, -1, -1):
        _suffix_parts(".".join(labels[i:]))
    r = _EXTRACT.extract_str(host)
    assert _suffix_parts(host) == (r.subdomain, r.domain, r.suffix)
