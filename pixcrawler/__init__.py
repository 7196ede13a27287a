"""PixCrawler's Flask backend: profiles, projects, crawl jobs and the images they collect."""

from pixcrawler.app import create_app, create_app_or_exit
from pixcrawler.config import ConfigError

__all__ = ["ConfigError", "create_app", "create_app_or_exit"]
