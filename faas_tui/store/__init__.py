"""The encrypted store: tables, cryptography, the database engine and the Vault service.

Import `faas_tui.store.vault.Vault` explicitly; this package imports nothing heavy on its own.
"""
