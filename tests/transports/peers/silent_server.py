"""A stdio 'server' that reads everything and never answers (not even initialize)."""

from __future__ import annotations

import os

while os.read(0, 65536):
    pass
