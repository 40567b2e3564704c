"""Subprocess peers for the hostile suite."""
