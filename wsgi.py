"""The one module-level app: the WSGI server's target, and what `flask` finds by itself.

The app is built with the cyclic garbage collector paused, then everything built so far is
frozen (`gc.freeze`): importing and configuring the app allocates long-lived objects only
(modules, classes, the config), so collecting during it is wasted work, and later collections
need not walk them again: every `flask` command starts faster (README, "Benchmarks"). It is
also what Python's documentation advises before a server forks its workers: collections in a
worker then leave the shared start-up pages alone.
"""

import gc

collecting = gc.isenabled()
gc.disable()
try:
    from pixcrawler import create_app_or_exit

    app = create_app_or_exit()
finally:
    gc.freeze()
    if collecting:
        gc.enable()
