"""A failed connect's error as the inspector shows it: the user's frames kept, mcpkit's,
importlib's and installed packages' left out, every chained exception still named."""

from __future__ import annotations

from pathlib import Path

import mcpkit
from mcpkit.inspector.failure import describe_failure, is_user_file

MCPKIT = str(Path(mcpkit.__file__).resolve().parent)
SITE = "/usr/lib/python3/dist-packages/anyio/_core.py"

IMPORT_ERROR = f"""the server process 'mcpkit run app.py' (pid 7) exited with code 1; its stderr:
Traceback (most recent call last):
  File "{MCPKIT}/cli/user_server.py", line 106, in _import_user_code
    return load()
           ^^^^^^
  File "<frozen importlib._bootstrap_external>", line 940, in exec_module
  File "/home/ada/project/app.py", line 4, in <module>
    helper.boom()
  File "/home/ada/project/helper.py", line 2, in boom
    raise ValueError("bad config")
ValueError: bad config
mcpkit run: importing app.py raised ValueError (traceback above); fix that error"""

CHAINED = f"""failed:
Traceback (most recent call last):
  File "/home/ada/project/app.py", line 4, in load
    json.loads(text)
  File "{SITE}", line 12, in loads
    raise JSONDecodeError("Expecting value")
json.decoder.JSONDecodeError: Expecting value

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/home/ada/project/app.py", line 7, in <module>
    load()
RuntimeError: config broken"""


def test_an_import_error_keeps_the_users_frames_and_says_how_many_were_left_out() -> None:
    failure = describe_failure(IMPORT_ERROR)
    assert failure["summary"].startswith("the server process 'mcpkit run app.py'")
    assert failure["exception"].splitlines()[0] == "ValueError: bad config"
    assert failure["userFrames"].splitlines() == [
        "Traceback (most recent call last):",
        '  File "/home/ada/project/app.py", line 4, in <module>',
        "    helper.boom()",
        '  File "/home/ada/project/helper.py", line 2, in boom',
        '    raise ValueError("bad config")',
        "ValueError: bad config",
        "mcpkit run: importing app.py raised ValueError (traceback above); fix that error",
    ]
    assert failure["otherFrames"] == 2
    assert failure["text"] == IMPORT_ERROR


def test_each_chained_traceback_keeps_its_exception() -> None:
    failure = describe_failure(CHAINED)
    trimmed = failure["userFrames"]
    assert "json.decoder.JSONDecodeError: Expecting value" in trimmed
    assert "The above exception was the direct cause" in trimmed
    assert trimmed.endswith("RuntimeError: config broken")
    assert "anyio" not in trimmed and failure["otherFrames"] == 1
    assert failure["exception"] == "RuntimeError: config broken"


def test_an_error_that_is_no_traceback_is_kept_whole() -> None:
    failure = describe_failure(ConnectionRefusedError("connection refused"))
    assert failure == {
        "summary": "connection refused",
        "exception": "",
        "userFrames": "",
        "otherFrames": 0,
        "text": "connection refused",
    }
    assert describe_failure(TimeoutError())["summary"] == "TimeoutError"


def test_whose_file_is_it() -> None:
    assert is_user_file("/home/ada/project/app.py")
    assert not is_user_file(f"{MCPKIT}/server/server.py")
    assert not is_user_file("<frozen importlib._bootstrap>")
    assert not is_user_file(SITE)
    assert not is_user_file(asyncio_file())


def asyncio_file() -> str:
    import asyncio

    return asyncio.__file__


SCHEMA_CAUSE = f"""the server process 'mcpkit run app.py' (pid 7) exited with code 1; its stderr:
Traceback (most recent call last):
  File "{MCPKIT}/server/schemas/signature.py", line 351, in build_signature
    schema = _input_schema(arguments_type, arguments.defaults, arguments.accepts_extra)
  File "{SITE}", line 12, in to_schema
    raise TypeError("no JSON Schema")
TypeError: no JSON Schema for <class 'app.Point'>

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/home/ada/project/app.py", line 5, in <module>
    @server.tool()
  File "{MCPKIT}/server/catalog/catalog.py", line 127, in decorate
    self.add_tool(fn, name=name, **options)
TypeError: f: no JSON Schema for <class 'app.Point'>"""


def test_a_cause_wholly_inside_mcpkit_and_libraries_is_left_out_with_its_chain_line() -> None:
    failure = describe_failure(SCHEMA_CAUSE)
    assert failure["userFrames"].splitlines() == [
        "Traceback (most recent call last):",
        '  File "/home/ada/project/app.py", line 5, in <module>',
        "    @server.tool()",
        "TypeError: f: no JSON Schema for <class 'app.Point'>",
    ]
    assert failure["otherFrames"] == 3
    assert failure["exception"] == "TypeError: f: no JSON Schema for <class 'app.Point'>"


ONE_LINE = """the server process 'mcpkit run app.py' (pid 7) exited with code 1; its stderr:
error: app.py, line 5: f(p: Point): the annotation of parameter 'p' has no JSON Schema"""


def test_the_command_lines_error_line_leads_the_box() -> None:
    failure = describe_failure(ONE_LINE)
    assert failure["summary"] == (
        "app.py, line 5: f(p: Point): the annotation of parameter 'p' has no JSON Schema"
    )
    assert failure["userFrames"] == ONE_LINE.splitlines()[1]
    assert not failure["summary"].startswith("The above exception")
