"""Hypothesis strategies the fuzz tests of several directories share."""

from __future__ import annotations

from hypothesis import strategies as st

__all__ = ["json_values"]

#: Any JSON value, small: null, booleans, small integers, short strings, and lists and
#: objects of them.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
