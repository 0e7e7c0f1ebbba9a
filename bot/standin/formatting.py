"""Turning formatted message text into the plain text Telegram stores.

With ``parse_mode=HTML`` Telegram keeps the text without tags and rejects
unsupported or unbalanced tags with "can't parse entities". The stand-in does
the same, so a bot that forgets to escape user input fails here as it would in
production. Markdown modes are kept as they are (not checked).
"""

from __future__ import annotations

from html.parser import HTMLParser

SUPPORTED_TAGS = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del",
        "span", "tg-spoiler", "a", "code", "pre", "blockquote", "tg-emoji",
    }
)  # fmt: skip


class EntityError(ValueError):
    """The text does not parse; the message is Telegram's description."""


def plain_text(text: str, parse_mode: str | None) -> str:
    """The text as Telegram stores it after applying ``parse_mode``."""
    if (parse_mode or "").upper() != "HTML":
        return text
    parser = _TelegramHtml(text)
    parser.feed(text)
    parser.close()
    if parser.open_tags:
        tag = parser.open_tags[-1]
        raise EntityError(f'Can\'t find end tag corresponding to start tag "{tag}"')
    return "".join(parser.parts)


class _TelegramHtml(HTMLParser):
    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self.source = source
        self.parts: list[str] = []
        self.open_tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in SUPPORTED_TAGS:
            raise EntityError(f'Unsupported start tag "{tag}" at byte offset {self._offset()}')
        self.open_tags.append(tag)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        raise EntityError(f'Unsupported start tag "{tag}" at byte offset {self._offset()}')

    def handle_endtag(self, tag: str) -> None:
        if not self.open_tags or self.open_tags[-1] != tag:
            expected = f'"</{self.open_tags[-1]}>"' if self.open_tags else "no end tag"
            raise EntityError(
                f"Unmatched end tag at byte offset {self._offset()}, "
                f'expected {expected}, found "</{tag}>"'
            )
        self.open_tags.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def _offset(self) -> int:
        """Byte offset (UTF-8) of the tag being handled, as Telegram reports it."""
        line, column = self.getpos()
        lines = self.source.splitlines(keepends=True)
        index = sum(len(text) for text in lines[: line - 1]) + column
        return len(self.source[:index].encode())
