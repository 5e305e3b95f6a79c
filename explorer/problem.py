"""Errors that a person reads: a code naming the message and the fields that
fill it, so the English text stays here (for logs and the command line) and
the app can say the same thing in the reader's language from the code and
the fields, without this package knowing of languages (as pydantic's errors
carry a ``type`` and a ``ctx`` that translators key on).

A family of errors (``DatasetError``, ``CheckpointError``, ...) subclasses
``Problem`` and lists its messages in ``MESSAGES``; a raise names one::

    raise StoreError("incomplete", store=path.parent, file=path.name, reason=e)

The app's ``explorer.app.errors`` holds each code's words for the page; a
test checks that every code has them. A message that is no code of its
class is free text (``code`` None), shown in English under a translated
lead: the families not yet moved to codes.
"""

from __future__ import annotations

from typing import ClassVar


class Problem(Exception):
    """An error with a message code and its fields.

    Attributes:
        code: the key of the message in the class's ``MESSAGES``.
        fields: the values its ``{name}`` placeholders take (paths, numbers,
            a library's own message).
    """

    MESSAGES: ClassVar[dict[str, str]] = {}

    def __init__(self, code: str, /, **fields: object) -> None:
        known = code in self.MESSAGES
        self.code = code if known else None
        self.fields = fields
        super().__init__(self.MESSAGES[code].format(**fields) if known else code)

    def __reduce__(self):
        # (a cache that pickles the error keeps its code and fields)
        return _rebuilt, (type(self), self.code or str(self), self.fields)


def _rebuilt(cls: type[Problem], code: str, fields: dict) -> Problem:
    return cls(code, **fields)
