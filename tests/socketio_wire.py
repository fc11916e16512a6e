"""A minimal socket.io client over websockets, for the tests: the widget's
protocol (Engine.IO 4, websocket transport only, as rapport-widget.js
connects), spoken by hand. python-socketio's AsyncClient needs a newer aiohttp
than the lock's 3.9.5."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Dict, List, Optional

import websockets


class WidgetSocket:
    """One widget connection: emit() events, answers() collects bot_uttered."""

    def __init__(self, base_url: str, origin: Optional[str] = None):
        self.url = base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.origin = origin
        self.events: List[List[Any]] = []
        self._socket: Any = None
        self._reader: Optional[asyncio.Task] = None

    async def __aenter__(self) -> "WidgetSocket":
        headers = {"Origin": self.origin} if self.origin else {}
        self._socket = await websockets.connect(self.url, extra_headers=headers, max_size=2**22, open_timeout=60)
        opened = await self._socket.recv()
        assert opened.startswith("0"), opened
        await self._socket.send("40")
        connected = await self._socket.recv()
        if not connected.startswith("40"):
            raise ConnectionRefusedError(connected)
        self._reader = asyncio.ensure_future(self._read())
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self._reader.cancel()
        await self._socket.close()

    async def _read(self) -> None:
        async for frame in self._socket:
            if frame == "2":
                await self._socket.send("3")  # Engine.IO ping, pong
            elif frame.startswith("42"):
                self.events.append(json.loads(frame[2:]))

    async def emit(self, event: str, data: Any) -> None:
        await self._socket.send("42" + json.dumps([event, data]))

    async def raw(self, frame: str) -> None:
        await self._socket.send(frame)

    async def wait_for(self, event: str, count: int = 1, timeout: float = 30) -> List[Any]:
        """The data of the first `count` events of that name (fewer if the time runs out)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.of(event)) < count and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        return self.of(event)[:count]

    def of(self, event: str) -> List[Any]:
        return [e[1] if len(e) > 1 else None for e in self.events if e and e[0] == event]

    async def session(self, session_id: Optional[str] = None) -> str:
        """Asks for a session (the one kept, or a new one) and returns the one the
        server confirmed: `web:<id>.<proof>`, signed by it. The conversation's id,
        its sender id, is the part before the dot (sender_of)."""
        before = len(self.of("session_confirm"))
        await self.emit("session_request", {"session_id": session_id})
        confirmed = await self.wait_for("session_confirm", count=before + 1, timeout=20)
        assert len(confirmed) == before + 1, confirmed
        return confirmed[-1]

    def answers(self) -> List[Dict[str, Any]]:
        return self.of("bot_uttered")


def sender_of(session: str) -> str:
    """The conversation a signed widget session names (its proof stays with the client)."""
    return session.partition(".")[0]
