"""Photos and voice notes that came from another channel, fetched for a web page: a Telegram
file id through the Bot API's getFile (the bytes are kept in the media folder afterwards)."""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

import aiohttp

from bot.media import CONTENT_TYPES, MediaStore, is_local, sniff

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)
MAX_BYTES = 20 * 1024 * 1024  # the Bot API's own limit on getFile downloads


async def telegram_file(settings: Settings, media: MediaStore, file_ref: str) -> tuple[bytes, str] | None:
    if is_local(file_ref) or file_ref.startswith("wx:") or not settings.bot_token:
        return None
    cached = "tg-" + hashlib.sha256(file_ref.encode()).hexdigest()[:32]
    for suffix in CONTENT_TYPES:
        path = media.path(f"web:{cached}{suffix}")
        if path is not None:
            return path.read_bytes(), CONTENT_TYPES[suffix]
    base = settings.api_url.rstrip("/") + settings.bot_token
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as client:
            async with client.get(f"{base}/getFile", params={"file_id": file_ref}) as response:
                found = await response.json()
            file_path = (found.get("result") or {}).get("file_path") if found.get("ok") else None
            if not file_path:
                return None
            async with client.get(f"{settings.effective_file_api_url.rstrip('/')}{settings.bot_token}/{file_path}") as got:
                if got.status != 200:
                    return None
                data = await got.content.read(MAX_BYTES + 1)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        log.warning("could not fetch a Telegram file for the web page: %r", error)
        return None
    kind = sniff(data)
    if kind is None or len(data) > MAX_BYTES:
        return None
    media.root.mkdir(parents=True, exist_ok=True)
    (media.root / f"{cached}{kind[1]}").write_bytes(data)
    return data, CONTENT_TYPES[kind[1]]
