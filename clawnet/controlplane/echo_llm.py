"""A tiny OpenAI-compatible LLM server on loopback: the "local echo" provider.

It answers `GET /v1/models` and `POST /v1/chat/completions` (streamed as server-sent events when
asked, as OpenClaw does). The reply echoes the last user message, so a new user can try ClawNet
with no API key, and tests get real agent turns with only the model faked.

Tests can steer a reply from the message itself:
- a line `REPLY WITH: <text>` makes the reply exactly `<text>`;
- a line `DELAY MS: <n>` waits n milliseconds before answering;
- a line `FAIL WITH: <status>` answers with that HTTP error;
- a line `TOOL CALL: <tool> <json arguments>` answers with an OpenAI tool call of that tool; the
  follow-up request carrying the tool's result is answered `Tool result: <result>` in plain text;
- `{agent}` in a reply is the name of the bot answering (from its workspace's AGENTS.md in the
  system prompt), so a test can tell which bot a message was routed to.

Under `/paused/v1` the same server is ClawNet's "paused" model (`paused_reply`): a paused bot's
agent points there, and every request gets that bot's pause reply, with no tokens counted and
nothing recorded in `requests`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from clawnet.aio import wait_for

MODEL_ID = "echo-1"
_DIRECTIVE = re.compile(r"^(REPLY WITH|DELAY MS|FAIL WITH|TOOL CALL):\s*(.*)$", re.MULTILINE)
TOOL_RESULT_PREFIX = "Tool result: "
PAUSED_PREFIX = "/paused/"  # the path of the "paused" model on the same server
# What OpenClaw wraps around a person's words: internal context blocks (sent as extra user
# messages), a "[Sat 2026-11-21 10:21 UTC] " time stamp, and a "Runtime: ..." line.
_INTERNAL = re.compile(r"<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>.*?<<<END_OPENCLAW_INTERNAL_CONTEXT>>>", re.S)
_STAMP = re.compile(r"^\[[^\]\n]{5,60}\]\s*")
_RUNTIME = re.compile(r"\n+Runtime: .*$", re.S)


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def last_user_text(body: dict[str, Any]) -> str:
    """The words of the last user message, without OpenClaw's envelope."""
    for message in reversed(body.get("messages") or []):
        if message.get("role") != "user":
            continue
        text = _INTERNAL.sub("", _text_of(message.get("content"))).strip()
        if text:
            return _RUNTIME.sub("", _STAMP.sub("", text)).strip()
    return ""


@dataclass
class Reply:
    text: str
    delay_s: float = 0.0
    fail_status: int | None = None
    tool_call: tuple[str, str] | None = None  # (tool name, JSON arguments)


def tool_result(body: dict[str, Any]) -> str | None:
    """The text of the tool result when the request is the follow-up to a tool call, else None."""
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "tool":
            return _text_of(message.get("content")).strip()
        text = _INTERNAL.sub("", _text_of(message.get("content"))).strip()
        if message.get("role") != "user" or text:  # OpenClaw's context blocks come after it
            return None
    return None


_AGENT_NAME = re.compile(r"You are (.{1,80}?), a bot run by ClawNet")


def agent_name(body: dict[str, Any]) -> str:
    """The name of the bot a request is for (ClawNet writes it into the agent's AGENTS.md)."""
    for message in body.get("messages") or []:
        if message.get("role") in ("system", "developer"):
            found = _AGENT_NAME.search(_text_of(message.get("content")))
            if found:
                return found.group(1)
    return "an unnamed bot"


def plan_reply(user_text: str) -> Reply:
    directives = {k: v.strip() for k, v in _DIRECTIVE.findall(user_text)}
    delay = float(directives.get("DELAY MS", "0") or 0) / 1000
    if "FAIL WITH" in directives:
        return Reply("", delay, int(directives["FAIL WITH"] or 500))
    if "REPLY WITH" in directives:
        return Reply(directives["REPLY WITH"], delay)
    if "TOOL CALL" in directives:
        name, _, arguments = directives["TOOL CALL"].partition(" ")
        return Reply("", delay, tool_call=(name.strip(), arguments.strip() or "{}"))
    said = _DIRECTIVE.sub("", user_text).strip()
    return Reply(f"Echo: {said or '(nothing)'}", delay)


@dataclass
class FakeLLM:
    """Run with `async with FakeLLM() as llm:`; `llm.base_url` is the OpenAI base URL."""

    host: str = "127.0.0.1"
    port: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    # Tests: (substring, reply) pairs; the first whose substring is in the user's words answers.
    rules: list[tuple[str, str]] = field(default_factory=list)
    # The "paused" model: the reply for a model id (`bot-<id>`); None: no paused model here.
    paused_reply: Callable[[str], Awaitable[str]] | None = None
    _server: asyncio.AbstractServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    async def start(self) -> FakeLLM:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await wait_for(self._server.wait_closed(), 2)
            self._server = None

    async def __aenter__(self) -> FakeLLM:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def serve_forever(self) -> None:
        await self.start()
        assert self._server is not None
        async with self._server:
            await self._server.serve_forever()

    # --- HTTP ----------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await self._one_request(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _one_request(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        request_line = await reader.readline()
        if not request_line:
            return False
        method, path, _ = request_line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while True:
            line = (await reader.readline()).decode("latin-1").strip()
            if not line:
                break
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        body_bytes = await reader.readexactly(length) if length else b""
        path = path.split("?", 1)[0].rstrip("/")
        if method == "GET" and path.endswith("/models"):
            await self._send_json(
                writer,
                200,
                {
                    "object": "list",
                    "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "clawnet"}],
                },
            )
            return True
        if method == "POST" and path.endswith("/chat/completions"):
            try:
                body = json.loads(body_bytes or b"{}")
            except json.JSONDecodeError:
                await self._send_json(writer, 400, {"error": {"message": "invalid JSON"}})
                return True
            if path.startswith(PAUSED_PREFIX) and self.paused_reply is not None:
                text = await self.paused_reply(str(body.get("model") or ""))
                await self._complete(writer, body, Reply(text), counted=False)
                return False
            self.requests.append(body)
            await self._complete(writer, body)
            return False  # streamed responses end by closing the connection
        await self._send_json(writer, 404, {"error": {"message": f"no route {method} {path}"}})
        return True

    async def _send_json(self, writer: asyncio.StreamWriter, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        writer.write(
            f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n".encode()
            + data
        )
        await writer.drain()

    def _plan(self, body: dict[str, Any]) -> Reply:
        said = last_user_text(body)
        ruled = next((text for needle, text in self.rules if needle in said), None)
        if ruled is not None and not _DIRECTIVE.match(ruled):
            ruled = f"REPLY WITH: {ruled}"
        result = tool_result(body)
        if result is not None:
            return Reply(TOOL_RESULT_PREFIX + (result[:500] or "(empty)"))
        return plan_reply(ruled if ruled is not None else said)

    async def _complete(
        self,
        writer: asyncio.StreamWriter,
        body: dict[str, Any],
        planned: Reply | None = None,
        *,
        counted: bool = True,
    ) -> None:
        reply = planned or self._plan(body)
        if "{agent}" in reply.text:
            reply.text = reply.text.replace("{agent}", agent_name(body))
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.fail_status:
            await self._send_json(
                writer, reply.fail_status, {"error": {"message": "fake failure", "type": "server_error"}}
            )
            return
        model = body.get("model") or MODEL_ID
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        call_id = f"call_{uuid.uuid4().hex[:12]}"
        created = int(time.time())
        prompt_tokens = max(1, len(json.dumps(body.get("messages", []))) // 4) if counted else 0
        completion_tokens = max(1, len(reply.text) // 4) if counted else 0
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        if not body.get("stream"):
            await self._send_json(
                writer,
                200,
                {
                    "id": completion_id,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": _message(reply, call_id),
                            "finish_reason": "tool_calls" if reply.tool_call else "stop",
                        }
                    ],
                    "usage": usage,
                },
            )
            return
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            b"Connection: close\r\n\r\n"
        )

        def chunk(delta: dict[str, Any], finish: str | None = None, with_usage: bool = False) -> bytes:
            payload: dict[str, Any] = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            if with_usage:
                payload["usage"] = usage
            return f"data: {json.dumps(payload)}\n\n".encode()

        writer.write(chunk({"role": "assistant", "content": ""}))
        if reply.tool_call is not None:
            name, arguments = reply.tool_call
            head = {
                "index": 0,
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": ""},
            }
            writer.write(chunk({"tool_calls": [head]}))
            half = len(arguments) // 2  # the arguments arrive in pieces, as real providers send them
            for piece in (arguments[:half], arguments[half:]):
                writer.write(chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
                await writer.drain()
            writer.write(chunk({}, "tool_calls", with_usage=True))
            writer.write(b"data: [DONE]\n\n")
            await writer.drain()
            return
        words = re.findall(r"\S+\s*", reply.text) or [reply.text]
        for word in words:
            writer.write(chunk({"content": word}))
            await writer.drain()
        writer.write(chunk({}, "stop", with_usage=True))
        writer.write(b"data: [DONE]\n\n")
        await writer.drain()


def _message(reply: Reply, call_id: str) -> dict[str, Any]:
    if reply.tool_call is None:
        return {"role": "assistant", "content": reply.text}
    name, arguments = reply.tool_call
    call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
    return {"role": "assistant", "content": None, "tool_calls": [call]}


def main(port: int = 0, host: str = "127.0.0.1") -> None:
    async def run() -> None:
        llm = FakeLLM(host=host, port=port)
        await llm.start()
        print(f"fake LLM listening on {llm.base_url}", flush=True)
        assert llm._server is not None
        await llm._server.serve_forever()

    asyncio.run(run())
