"""The rules of the domain: names, value formats, records and errors. Pure Python, no UI, no database."""
