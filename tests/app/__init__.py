"""Pilot tests of the Textual app: every flow of issues 3 and 5, driven by keys and clicks."""
