"""Shared test contracts per model family, reusable by downstream code (a new member of a
family is tested by registering it). Modules import pytest; nothing here is imported by the
library."""
