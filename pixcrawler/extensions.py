"""Extension objects, created once and bound to each app by the factory with `init_app`."""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from pixcrawler.database import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
