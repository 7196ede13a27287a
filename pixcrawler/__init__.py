"""PixCrawler's Flask backend: profiles, projects, crawl jobs and the images they collect."""

from pixcrawler.app import create_app
from pixcrawler.config import ConfigError

__all__ = ["ConfigError", "create_app"]
