"""The one module-level app: the WSGI server's target, and what `flask` finds by itself."""

from pixcrawler import create_app_or_exit

app = create_app_or_exit()
