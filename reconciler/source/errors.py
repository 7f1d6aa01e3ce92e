"""The one error type of the git source, and the redaction every message goes through."""

import re

# scheme://user:secret@host -> scheme://host: credentials never reach a message or a log.
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@")


class SourceError(Exception):
    """A git source problem a user can act on; ``str()`` is one clear line without secrets."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


def redact(text: str) -> str:
    """Return ``text`` with the userinfo (user, password, token) of every URL in it removed."""
    return _USERINFO.sub(r"\g<scheme>", text)


def one_line(text: str) -> str:
    """Collapse a (possibly multi-line, libgit2-produced) message into one redacted line."""
    return " ".join(redact(text).split())
