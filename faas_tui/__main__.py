"""`python -m faas_tui` is the same as the `faas-tui` console script."""

from faas_tui.cli import main

raise SystemExit(main())
