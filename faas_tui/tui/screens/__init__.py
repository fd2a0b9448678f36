"""Full screens of the app: unlock, dashboard, function, system secrets, audit, event log."""
