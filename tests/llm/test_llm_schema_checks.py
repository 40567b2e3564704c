"""The local provider server's checks see what the APIs would refuse: a check that passed
everything would make every other test here vacuous."""

from __future__ import annotations

from _providers import schema_errors

TOOL = {"name": "add", "description": "", "input_schema": {"type": "object", "anything": 1}}
MESSAGE = {"role": "user", "content": [{"type": "text", "text": "hi"}]}


def test_a_valid_body_passes_and_a_schema_is_free_form() -> None:
    body = {"model": "m", "max_tokens": 5, "messages": [MESSAGE], "tools": [TOOL]}
    assert schema_errors("anthropic", body) == []


def test_unknown_fields_and_wrong_shapes_are_caught_at_any_depth() -> None:
    nested = {**MESSAGE, "content": [{"type": "text", "text": "hi", "is_error": True}]}
    assert schema_errors("anthropic", {"model": "m", "max_tokens": 5, "messages": [nested]}) == [
        "$.messages[0].content[0].is_error"
    ]
    image = {"type": "image", "source": {"type": "base64", "data": "x"}}  # no media_type
    bad = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [image]}]}
    assert schema_errors("anthropic", bad)
    tool_message = {"role": "tool", "tool_call_id": "c", "content": [{"type": "image_url"}]}
    assert schema_errors("chat", {"model": "m", "messages": [tool_message]})
    output = {"type": "function_call_output", "call_id": "c", "output": [{"type": "input_audio"}]}
    assert schema_errors("responses", {"model": "m", "input": [output]})
    assert schema_errors("gemini", {"contents": [{"role": "user", "parts": [{"txt": "hi"}]}]})
    assert schema_errors("gemini", {"contents": [], "safety": []}) == ["unknown field safety"]
