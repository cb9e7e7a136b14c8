"""Drives the T4DM MCP server over Streamable HTTP with the Python `mcp` package's client.

Usage: mcp_client_check.py <url>; the keys come from T4DM_TEST_KEY (namespace "alice") and
T4DM_TEST_OTHER_KEY (another namespace's key). Prints one JSON object of what it saw; the
vitest test (../mcp-python.e2e.test.ts) asserts on it.
"""

import asyncio
import json
import os
import sys

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


def text_of(result):
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


async def session_run(url, key, body):
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as http:
        async with streamable_http_client(url, http_client=http) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                return await body(session)


async def main(url):
    out = {}

    async def as_alice(session):
        out["tools"] = sorted(t.name for t in (await session.list_tools()).tools)
        remembered = await session.call_tool("remember", {"namespace": "alice", "content": "The Python agent parks its notes in notes/agent.md"})
        memory_id = remembered.structured_content["memory_id"]
        out["remembered_id"] = memory_id
        recalled = await session.call_tool("recall", {"namespace": "alice", "query": "where does the python agent park its notes"})
        out["recalled_ids"] = [m["id"] for m in recalled.structured_content["memories"]]
        recall_id = recalled.structured_content["recall_id"]
        reinforced = await session.call_tool("reinforce", {"namespace": "alice", "recall_id": recall_id, "reward": 1})
        out["reinforce_error"] = reinforced.is_error
        out["credited"] = reinforced.structured_content["credited_memories"]
        malformed = await session.call_tool("remember", {"namespace": "alice"})
        out["malformed"] = {"isError": malformed.is_error, "text": text_of(malformed)}
        forgotten = await session.call_tool("forget", {"namespace": "alice", "ids": [memory_id]})
        out["forgotten"] = forgotten.structured_content["forgotten_count"]
        still = await session.call_tool("list_memories", {"namespace": "alice"})
        out["after_malformed_ok"] = not still.is_error

    async def as_other(session):
        refused = await session.call_tool("recall", {"namespace": "alice", "query": "notes"})
        out["cross_namespace"] = {"isError": refused.is_error, "text": text_of(refused)}

    await session_run(url, os.environ["T4DM_TEST_KEY"], as_alice)
    await session_run(url, os.environ["T4DM_TEST_OTHER_KEY"], as_other)
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
