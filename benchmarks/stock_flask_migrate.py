"""A stock Flask-Migrate app over PixCrawler's models: what `benchmarks/cli_startup.py` times
`flask db …` against. Not part of the package; run it with `flask --app`.

It is what Flask-Migrate's README has one write: a Flask app, Flask-SQLAlchemy on the models'
declarative base, `Migrate(app, db)`, the models imported. Nothing of PixCrawler's start-up
runs: no config classes, no checks, no commands of ours, no admin, no env.py of ours.

`STOCK_MIGRATIONS` names its migrations folder. `cli_startup.py` makes one with this app's own
`flask db init` (Flask-Migrate's template env.py, alembic.ini and script.py.mako), whose
`versions/` is the repository's `migrations/versions`, so both apps read the same revisions.
`DATABASE_URL` is used as given (the benchmark passes a `postgresql+psycopg2://` URL, the
driver PixCrawler normalises to).
"""

import os

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

import pixcrawler.models  # noqa: F401  (the tables, as autogenerate would need them)
from pixcrawler.database import Base

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
db = SQLAlchemy(app, model_class=Base)
migrate = Migrate(app, db, directory=os.environ["STOCK_MIGRATIONS"])
