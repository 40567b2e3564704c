"""What a server offers: tools, resources, prompts, views, skills, as specs in registries.

Here are the catalog itself (`catalog.Catalog`, `registry`), the specs each built once when
registered (`tools`, `resources`, `prompts`, `views`, `skills`, `transforms`, `mounts`...)
and what they are built from (`uri_template`, `tool_schemas`, `registration_checks`). What
is done with the specs afterwards has a room of its own: each call of one (`calling/`),
which request may see which (`visibility/`), finding tools in a large catalog (`search/`).
"""
