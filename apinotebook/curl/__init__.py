"""curl in, curl out: read a ``curl`` command line, write one for any request.

- :func:`to_curl` writes a copy-pasteable POSIX shell command, secrets masked;
- :func:`parse_curl` reads the options API docs and browsers' "Copy as cURL" use.

The client built from a command is :class:`apinotebook.rest.CurlClient`
(``RestClient.from_curl("curl ...")``).
"""

from typing import Any

from apinotebook._core.compat import moved_attribute
from apinotebook.curl._parse import DEFAULT_MAX_FILE_SIZE, CurlCommand, parse_curl, to_curl

__all__ = ["DEFAULT_MAX_FILE_SIZE", "CurlCommand", "parse_curl", "to_curl"]


def __getattr__(name: str) -> Any:
    return moved_attribute(__name__, name)
