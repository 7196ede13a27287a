"""One module per management command; the file name is the command name.

Each module defines a click command called `command`; `pixcrawler.cli.register_commands`
finds it. The command parses options, calls a service and reports; modules whose names start
with `_` hold shared helpers and are not commands.
"""
