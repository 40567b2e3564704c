"""Type hints and docstrings read into JSON Schemas, and the validators that check values."""
