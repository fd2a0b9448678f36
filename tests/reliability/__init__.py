"""Reliability and security tests: PostgreSQL, load, crashes, hostile input, leaks (issue 6)."""
