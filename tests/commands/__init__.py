"""Tests of the management commands, one module per command."""
