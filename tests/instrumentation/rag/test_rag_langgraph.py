"""LangGraph agents (real langgraph, langchain-openai and the openai SDK over HTTP to a replay server):
``invoke_agent`` spans with the model calls and ``execute_tool`` spans nested under them, tokens counted once.

The tool round trip replays two recorded OpenAI responses: the model asking for ``get_current_weather`` in
San Francisco (``openai/chat_tools_single_call_gpt35.yaml``) and the model answering once the tool result is
in the history (``openai/chat_tool_result_in_history_gpt35.yaml``).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, TypedDict

import pytest
from conftest import ancestors, by_name, one, parent_of, served_usage, usage_sum
from langchain_core.messages import AnyMessage, HumanMessage, SystemMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.prebuilt import create_react_agent
from langgraph.types import interrupt

TOOL_ROUND_TRIP = (
    "openai/chat_tools_single_call_gpt35.yaml",
    "openai/chat_tool_result_in_history_gpt35.yaml",
)
LANGGRAPH_CASSETTE = "langchain/langgraph_invoke_gpt4o.yaml"
QUESTION = "What's the weather like in San Francisco?"
ANSWER = "The weather in San Francisco is 70 degrees and sunny."
TOOL_CALL_ID = "call_NnblzAO7oa78mQTzjUYLcouN"  # the id in the recorded tool-call response
AGENT = "invoke_agent weather_agent"
CHAT = "chat gpt-3.5-turbo"
TOOL = "execute_tool get_current_weather"


@tool
def get_current_weather(location: str) -> str:
    """Get the current weather in a given city."""
    return f"The weather in {location} is 70 degrees and sunny."


class Messages(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


@pytest.fixture
def weather_agent(replay):
    server = replay(*TOOL_ROUND_TRIP)
    model = ChatOpenAI(model="gpt-3.5-turbo", base_url=server.base_url + "/v1", api_key="x", max_retries=0)
    return create_react_agent(model, [get_current_weather], name="weather_agent"), server


def check_tool_round_trip(trace_spans: list[Any], server: Any) -> None:
    agent = one(trace_spans, AGENT)
    assert agent.parent is None
    assert {s.context.trace_id for s in trace_spans} == {agent.context.trace_id}
    assert agent.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert agent.attributes["gen_ai.agent.name"] == "weather_agent"
    assert agent.attributes["gen_ai.provider.name"] == "openai"
    assert agent.attributes["gen_ai.request.model"] == "gpt-3.5-turbo"
    # the graph's "agent" node is a step of the agent, not a second agent
    assert [s.name for s in trace_spans if s.attributes.get("gen_ai.operation.name") == "invoke_agent"] == [
        AGENT
    ]

    framework_chats = by_name(trace_spans, CHAT, "INTERNAL")
    provider_chats = by_name(trace_spans, CHAT, "CLIENT")
    assert len(framework_chats) == len(provider_chats) == 2
    for provider_chat in provider_chats:
        assert parent_of(trace_spans, provider_chat) in framework_chats
        assert ancestors(trace_spans, provider_chat)[-1] == AGENT

    tool_span = one(trace_spans, TOOL)
    assert ancestors(trace_spans, tool_span)[-1] == AGENT
    assert tool_span.attributes["gen_ai.operation.name"] == "execute_tool"
    assert tool_span.attributes["gen_ai.tool.name"] == "get_current_weather"
    assert tool_span.attributes["gen_ai.tool.call.id"] == TOOL_CALL_ID
    assert tool_span.attributes["gen_ai.tool.type"] == "function"
    first, second = sorted(provider_chats, key=lambda s: s.start_time)
    assert first.attributes["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert first.end_time <= tool_span.start_time and tool_span.end_time <= second.start_time
    assert second.attributes["gen_ai.response.finish_reasons"] == ("stop",)

    # the provider spans carry the usage, once per call; the trace total is what the provider reported
    carriers = [s for s in trace_spans if "gen_ai.usage.input_tokens" in s.attributes]
    assert sorted(carriers, key=lambda s: s.start_time) == [first, second]
    assert usage_sum(trace_spans) == served_usage(server) == (68 + 40, 16 + 12)


def test_react_agent_tool_round_trip(instrument, weather_agent, spans):
    instrument("langchain", "openai")
    agent, server = weather_agent
    result = agent.invoke({"messages": [("user", QUESTION)]})
    assert result["messages"][-1].content == ANSWER
    assert len(server.requests) == 2 and all(r.matched is not None for r in server.requests)
    check_tool_round_trip(spans(), server)


def test_react_agent_async_stream_keeps_nesting(instrument, weather_agent, spans):
    instrument("langchain", "openai")
    agent, server = weather_agent

    async def consume() -> list[Any]:
        return [update async for update in agent.astream({"messages": [("user", QUESTION)]})]

    updates = asyncio.run(consume())
    assert [next(iter(u)) for u in updates] == ["agent", "tools", "agent"]
    check_tool_round_trip(spans(), server)


def test_agent_without_provider_instrumentor_counts_tokens_on_framework_spans(
    instrument, weather_agent, spans, metric_points
):
    instrument("langchain")  # the openai instrumentor is off: the framework model spans carry the usage
    agent, server = weather_agent
    agent.invoke({"messages": [("user", QUESTION)]})
    trace_spans = spans()
    assert by_name(trace_spans, CHAT, "CLIENT") == []
    chats = by_name(trace_spans, CHAT, "INTERNAL")
    assert [s.attributes["genai_lens.usage.recorded_by"] for s in chats] == ["framework_span"] * 2
    assert all(ancestors(trace_spans, s)[-1] == AGENT for s in chats)
    assert usage_sum(trace_spans) == served_usage(server) == (108, 28)
    assert sorted(p.sum for p in metric_points()["gen_ai.client.token.usage"]) == [28, 108]


def _math_graph(base_url: str, name: str | None) -> Any:
    """The graph the LangGraph cassette was recorded with: one node asking gpt-4o a sum."""
    model = ChatOpenAI(model="gpt-4o", base_url=base_url, api_key="x", max_retries=0)

    async def calculate(state: Messages) -> dict[str, Any]:
        messages = [SystemMessage("You are a mathematician."), *state["messages"]]
        return {"messages": [await model.ainvoke(messages)]}

    graph = StateGraph(Messages).add_node("calculate", calculate)
    graph.add_edge(START, "calculate").add_edge("calculate", END)
    return graph.compile(name=name) if name else graph.compile()


@pytest.mark.parametrize(
    ("graph_name", "span_name"), [("mathematician", "invoke_agent mathematician"), (None, "invoke_agent")]
)
def test_state_graph_is_an_agent_named_by_the_application(instrument, replay, spans, graph_name, span_name):
    instrument("langchain", "openai")
    server = replay(LANGGRAPH_CASSETTE)
    graph = _math_graph(server.base_url + "/v1", graph_name)
    result = asyncio.run(graph.ainvoke({"messages": [HumanMessage("What's 5 + 5?")]}))
    assert result["messages"][-1].content == "\\(5 + 5 = 10\\)."
    trace_spans = spans()
    agent = one(trace_spans, span_name)
    if graph_name is None:  # LangGraph's default graph name is no name given by the application
        assert "gen_ai.agent.name" not in agent.attributes
    else:
        assert agent.attributes["gen_ai.agent.name"] == graph_name
    assert agent.attributes["gen_ai.request.model"] == "gpt-4o"
    provider_chat = one(trace_spans, "chat gpt-4o", "CLIENT")
    assert ancestors(trace_spans, provider_chat) == ["chat gpt-4o", "calculate", span_name]
    assert provider_chat.attributes["gen_ai.response.model"] == "gpt-4o-2024-08-06"
    assert usage_sum(trace_spans) == served_usage(server) == (24, 11)


def test_interrupt_is_not_an_error_and_thread_is_the_conversation(instrument, spans):
    instrument("langchain")

    def ask_human(state: Messages) -> dict[str, Any]:
        answer = interrupt("approve?")
        return {"messages": [HumanMessage(str(answer))]}

    graph = StateGraph(Messages).add_node("ask_human", ask_human)
    graph.add_edge(START, "ask_human").add_edge("ask_human", END)
    app = graph.compile(checkpointer=InMemorySaver(), name="approver")
    config = {"configurable": {"thread_id": "thread-42"}}
    result = app.invoke({"messages": [HumanMessage("deploy")]}, config)
    assert result["__interrupt__"][0].value == "approve?"
    agent = one(spans(), "invoke_agent approver")
    assert agent.attributes["gen_ai.conversation.id"] == "thread-42"
    node = one(spans(), "ask_human")
    assert parent_of(spans(), node) is agent
    assert {s.status.status_code.name for s in spans()} == {"UNSET"}  # pausing for a human is no failure
    assert all("error.type" not in s.attributes for s in spans())
