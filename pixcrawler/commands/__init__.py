"""One module per management command; the file name is the command name.

Each module defines a click command called `command`; `pixcrawler.cli.register_commands`
finds it. The command parses options, calls a service (or `pixcrawler.migrator`) and reports.
Names starting with `_` are not commands: `_errors` (CommandError, which every command raises
for the operator's mistakes), shared helpers (`_options`, `_choice`, ...), and `_db/`, the
`flask db` subcommands, one module per subcommand in the same way.

Nothing here imports `pixcrawler.cli`: it sits above the commands and finds them.
"""
