"""The one origin rule, shared by redirects, next-page links and WSDL imports."""

import httpx
import pytest

from apinotebook._core.urls import origin, same_origin


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.example/v1", ("https", "api.example", 443)),
        ("https://api.example:443/v1", ("https", "api.example", 443)),
        ("http://api.example/", ("http", "api.example", 80)),
        ("http://api.example:80", ("http", "api.example", 80)),
        ("http://api.example:8080/x", ("http", "api.example", 8080)),
        ("HTTPS://API.Example/X", ("https", "api.example", 443)),
        ("https://user:pw@api.example:8443/", ("https", "api.example", 8443)),
        ("http://[::1]:8000/", ("http", "::1", 8000)),
        ("http://127.0.0.1/", ("http", "127.0.0.1", 80)),
        ("wss://stream.example/", ("wss", "stream.example", 443)),
        ("ftp://files.example/x", ("ftp", "files.example", None)),
        (httpx.URL("https://api.example/v1?x=1"), ("https", "api.example", 443)),
    ],
)
def test_origin(url, expected):
    assert origin(url) == expected


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("https://api.example/a", "https://api.example:443/b?c=d", True),
        ("https://api.example/a", "https://API.EXAMPLE/a", True),
        ("http://api.example/a", "http://api.example:80/", True),
        ("https://api.example/", "http://api.example/", False),  # scheme
        ("https://api.example/", "https://api.example:8443/", False),  # port
        ("https://api.example/", "https://evil.example/", False),  # host
        ("https://api.example/", "https://sub.api.example/", False),  # a subdomain is another
        ("http://api.example:80/", "https://api.example:80/", False),
        ("https://api.example/", "https://exa mple/", False),  # unparseable: shares none
        ("https:://", "https:://", False),
        ("http://h:port/", "http://h:port/", False),
    ],
)
def test_same_origin(a, b, same):
    assert same_origin(a, b) is same
    assert same_origin(b, a) is same


@pytest.mark.parametrize(
    "url", ["https:://", "http://h:port/", "http://h:70000/", "/relative", "file:///etc/passwd"]
)
def test_a_url_with_no_origin_raises_value_error(url):
    with pytest.raises(ValueError, match="not a valid URL"):
        origin(url)
