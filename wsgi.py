"""The one module-level app: the WSGI server's target, and what `flask` finds by itself."""

import sys

from pixcrawler import ConfigError, create_app

try:
    app = create_app()
except ConfigError as exc:
    # A configuration mistake is the operator's, not a bug: one line, no traceback.
    sys.exit(f"Error: {exc}")
