"""Snapshot tests (pytest-textual-snapshot): every screen and modal at a fixed size and clock."""
