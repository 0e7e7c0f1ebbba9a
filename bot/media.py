"""Photos and voice notes people send from channels that hand over the bytes (the web chat, and
WeChat media once fetched): kept in one folder, named by a random token, and referred to as
"web:<name>". A file reference without a prefix is a Telegram file id (the first channel's)."""

from __future__ import annotations

import secrets
from pathlib import Path

LOCAL = "web:"
MAX_PHOTO_BYTES = 8 * 1024 * 1024
MAX_VOICE_BYTES = 4 * 1024 * 1024

# What a file is, from its first bytes (not from what the browser claims).
_SIGNATURES = (
    (b"\xff\xd8\xff", "photo", ".jpg", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "photo", ".png", "image/png"),
    (b"GIF8", "photo", ".gif", "image/gif"),
    (b"RIFF", "photo", ".webp", "image/webp"),  # checked further below: RIFF....WEBP
    (b"OggS", "voice", ".ogg", "audio/ogg"),
    (b"\x1aE\xdf\xa3", "voice", ".webm", "audio/webm"),
    (b"#!AMR", "voice", ".amr", "audio/amr"),
)
CONTENT_TYPES = {suffix: content_type for _, _, suffix, content_type in _SIGNATURES}


def sniff(data: bytes) -> tuple[str, str] | None:
    """(kind, suffix) of a photo or voice note we accept, or None."""
    for magic, kind, suffix, _ in _SIGNATURES:
        if data.startswith(magic):
            if suffix == ".webp" and data[8:12] != b"WEBP":
                return None
            return kind, suffix
    return None


def is_local(file_ref: str | None) -> bool:
    return bool(file_ref) and file_ref.startswith(LOCAL)  # type: ignore[union-attr]


class MediaStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def save(self, data: bytes, suffix: str) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        name = secrets.token_urlsafe(18) + suffix
        (self.root / name).write_bytes(data)
        return LOCAL + name

    def path(self, file_ref: str) -> Path | None:
        """The file behind a local reference; None for anything else (or a name that tries to
        leave the folder)."""
        if not is_local(file_ref):
            return None
        name = file_ref[len(LOCAL):]
        if not name or "/" in name or "\\" in name or name.startswith("."):
            return None
        path = self.root / name
        return path if path.is_file() else None

    def read(self, file_ref: str) -> bytes | None:
        path = self.path(file_ref)
        return path.read_bytes() if path is not None else None
