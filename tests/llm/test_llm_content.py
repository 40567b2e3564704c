"""How each API gets MCP content a loop's tools rarely return (audio, PDFs, other files,
structured results already sent as text), each result checked against the API's request
types; and the model a sampling handler picks from the server's hints."""

from __future__ import annotations

from typing import Any

from _providers import schema_errors

from mcpkit.llm import anthropic_tool_result, gemini_function_response
from mcpkit.llm._openai_content import chat_tool_messages, responses_output
from mcpkit.llm._sampling import choose_model
from mcpkit.types import (
    AudioContent,
    BlobResourceContents,
    CallToolResult,
    CreateMessageRequestParams,
    EmbeddedResource,
    ModelHint,
    ModelPreferences,
    SamplingMessage,
    TextContent,
)

PDF = EmbeddedResource(
    resource=BlobResourceContents(uri="file:///r.pdf", blob="JVBERg==", mime_type="application/pdf")
)
ZIP = EmbeddedResource(
    resource=BlobResourceContents(uri="file:///a.zip", blob="UEs=", mime_type="application/zip")
)
WAV = AudioContent(data="UklGRg==", mime_type="audio/wav")
RESULT = CallToolResult(content=[PDF, ZIP, WAV])


def not_shown(api: str) -> str:
    return f"[file file:///a.zip (application/zip) not shown: {api} takes no such content here]"


def anthropic_body(block: dict[str, Any]) -> dict[str, Any]:
    return {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [block]}]}


def test_claude_gets_a_pdf_as_a_document_and_notes_for_the_rest() -> None:
    block = anthropic_tool_result("t1", RESULT)
    assert schema_errors("anthropic", anthropic_body(block)) == []
    pdf, zipped, audio = block["content"]
    assert pdf == {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERg=="},
    }
    assert zipped == {"type": "text", "text": not_shown("the Messages API")}
    assert audio["text"].startswith("[audio (audio/wav) not shown")


def test_openai_gets_files_and_audio_where_its_apis_take_them() -> None:
    tool, user = chat_tool_messages([("c1", RESULT)])
    # the zip is a note in the tool message; the PDF and the audio follow in a user message
    assert tool == {"role": "tool", "tool_call_id": "c1", "content": not_shown("Chat Completions")}
    assert [part["type"] for part in user["content"]] == ["text", "file", "input_audio"]
    assert user["content"][1]["file"] == {
        "file_data": "data:application/pdf;base64,JVBERg==",
        "filename": "r.pdf",
    }
    assert schema_errors("chat", {"model": "m", "messages": [tool, user]}) == []
    output = responses_output("c1", CallToolResult(content=[PDF, WAV], is_error=True))
    assert schema_errors("responses", {"model": "m", "input": [output]}) == []
    error, pdf, audio = output["output"]
    assert error == {"type": "input_text", "text": "The tool reported an error:"}
    assert pdf == {
        "type": "input_file",
        "file_data": "data:application/pdf;base64,JVBERg==",
        "filename": "r.pdf",
    }
    assert audio["type"] == "input_text" and "not shown" in audio["text"]


def test_a_structured_result_is_sent_once() -> None:
    as_text = CallToolResult(content=[TextContent(text='{"a": 1}')], structured_content={"a": 1})
    assert anthropic_tool_result("t", as_text)["content"] == [{"type": "text", "text": '{"a": 1}'}]
    only_structured = CallToolResult(
        content=[TextContent(text="done")], structured_content={"a": 1}
    )
    texts = [b["text"] for b in anthropic_tool_result("t", only_structured)["content"]]
    assert texts == ["done", '{"a": 1}']
    reply = gemini_function_response(None, "f", only_structured)["function_response"]
    assert reply == {"name": "f", "response": {"output": {"a": 1}}}


def test_a_sampling_handler_picks_the_model_a_hint_names() -> None:
    def params(*hints: str) -> CreateMessageRequestParams:
        preferences = ModelPreferences(hints=[ModelHint(name=h) for h in hints])
        message = SamplingMessage(role="user", content=TextContent(text="hi"))
        return CreateMessageRequestParams(
            messages=[message], max_tokens=5, model_preferences=preferences
        )

    models = ["claude-haiku-4-5", "claude-opus-4-1"]
    assert choose_model(params("opus"), "claude-sonnet-4-5", models) == "claude-opus-4-1"
    assert choose_model(params("gpt-4", "haiku"), "claude-sonnet-4-5", models) == "claude-haiku-4-5"
    assert choose_model(params("gpt-4"), "claude-sonnet-4-5", models) == "claude-sonnet-4-5"
    assert choose_model(params(), "claude-sonnet-4-5", []) == "claude-sonnet-4-5"
