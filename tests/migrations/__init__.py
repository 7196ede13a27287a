"""Production-safety tests for migrations: concurrency, timeouts, failures, lint, 003 and 004."""
