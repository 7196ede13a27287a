"""The migration machinery: how Alembic runs inside PixCrawler, one module per role.

Placeholder map, completed as the modules move in.
"""
