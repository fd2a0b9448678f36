"""The Textual app: `faas_tui.tui.app.run_app` is what `faas-tui` opens. Light to import on purpose."""
