"""The local echo model: OpenAI-compatible, streamed, steerable by tests."""

from __future__ import annotations

import json

import httpx

from clawnet.controlplane.echo_llm import FakeLLM, agent_name, last_user_text, plan_reply


def test_openclaw_envelope_is_stripped_from_the_user_text():
    body = {
        "messages": [
            {"role": "system", "content": "You are..."},
            {
                "role": "user",
                "content": "[Sat 2026-11-21 10:21 UTC] hello there\n\nRuntime: name=Botty | agent=bot1",
            },
            {
                "role": "user",
                "content": "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>\ndata\n<<<END_OPENCLAW_INTERNAL_CONTEXT>>>",
            },
        ]
    }
    assert last_user_text(body) == "hello there"


def test_directives_steer_the_reply():
    assert plan_reply("REPLY WITH: exactly this").text == "exactly this"
    assert plan_reply("DELAY MS: 250\nhi").delay_s == 0.25
    assert plan_reply("FAIL WITH: 503").fail_status == 503
    assert plan_reply("plain words").text == "Echo: plain words"


def test_a_reply_can_name_the_bot_that_answers():
    system = "# AGENTS.md\n\nYou are Beta Bot, a bot run by ClawNet. Your personality..."
    assert agent_name({"messages": [{"role": "system", "content": system}]}) == "Beta Bot"
    assert agent_name({"messages": [{"role": "user", "content": "hi"}]}) == "an unnamed bot"


async def test_streams_server_sent_events_ending_with_done():
    async with FakeLLM() as llm, httpx.AsyncClient() as http:
        models = (await http.get(f"{llm.base_url}/models")).json()
        assert models["data"][0]["id"] == "echo-1"
        body = {
            "model": "echo-1",
            "stream": True,
            "messages": [{"role": "user", "content": "REPLY WITH: two words"}],
        }
        async with http.stream("POST", f"{llm.base_url}/chat/completions", json=body) as resp:
            assert resp.headers["content-type"].startswith("text/event-stream")
            lines = [line async for line in resp.aiter_lines() if line.startswith("data: ")]
        assert lines[-1] == "data: [DONE]"
        chunks = [json.loads(line[6:]) for line in lines[:-1]]
        text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
        assert text == "two words"
        assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and "usage" in chunks[-1]
        plain = (await http.post(f"{llm.base_url}/chat/completions", json={**body, "stream": False})).json()
        assert plain["choices"][0]["message"]["content"] == "two words"
        failing = await http.post(
            f"{llm.base_url}/chat/completions",
            json={"messages": [{"role": "user", "content": "FAIL WITH: 429"}]},
        )
        assert failing.status_code == 429
        assert len(llm.requests) == 3
