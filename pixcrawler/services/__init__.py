"""Application logic, called by the commands and the admin; owns the commits.

Where the schema stands and how migrations run is `pixcrawler.migrator`, the layer below.
"""
