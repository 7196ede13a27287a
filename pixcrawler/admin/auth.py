"""Who gets into the admin: Flask-Login sessions for admin accounts, the login and logout pages,
and one guard in front of every URL under /admin.

The guard is deliberately redundant with the views' own `is_accessible`: a page added later that
forgets the secure base class, or Flask-Admin's static files, are still behind the login.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from pixcrawler.extensions import db
from pixcrawler.models import AdminAccount, Role
from pixcrawler.services import accounts

# One message for an unknown email, a wrong password and a locked account, so the page never
# tells an attacker which emails have an admin account.
LOGIN_FAILED = "Invalid email or password, or too many failed attempts. Try again later."

bp = Blueprint("accounts", __name__)


class AdminUser:
    """The Flask-Login user: an admin account, identified together with its password hash.

    The session stores a fingerprint of the hash, so changing the password ends every session.
    """

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, account: AdminAccount):
        self.account = account
        self.email = account.profile.email

    def get_id(self) -> str:
        return f"{self.account.profile_id}.{fingerprint(self.account.password_hash)}"


def fingerprint(password_hash: str) -> str:
    """A short digest of the password hash, keyed by the app's secret."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, password_hash.encode(), hashlib.sha256).hexdigest()[:20]


def load_user(user_id: str) -> AdminUser | None:
    """The session's admin, or None once the account is gone, demoted or has a new password."""
    profile_id, _, mark = user_id.partition(".")
    try:
        key = uuid.UUID(profile_id)
    except ValueError:
        return None
    account = db.session.get(AdminAccount, key)
    if account is None or account.profile.role != Role.ADMIN:
        return None
    if not hmac.compare_digest(mark, fingerprint(account.password_hash)):
        return None
    return AdminUser(account)


def wants_json() -> bool:
    """API paths, and clients that ask for JSON rather than HTML, get JSON errors."""
    if "/api/" in request.path:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes.accept_html


def refuse() -> ResponseReturnValue:
    """Anyone not logged in: 401 JSON for machines, the login page for people."""
    if wants_json():
        return jsonify(error="authentication required", login=url_for("accounts.login")), 401
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def is_admin() -> bool:
    return bool(current_user.is_authenticated)


def safe_next(target: str | None) -> str:
    """A local path to go to after login; anything pointing elsewhere becomes the dashboard."""
    default = url_for("admin.index")
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=255)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    target = safe_next(request.values.get("next"))
    if is_admin():
        return redirect(target)
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        result = accounts.authenticate(form.email.data or "", form.password.data or "")
        db.session.commit()  # keeps the failure count and lockout, or the last login time
        if result.ok:
            session.clear()  # a fresh session: nothing from before the login survives
            login_user(AdminUser(result.account))
            return redirect(target)
        flash(LOGIN_FAILED, "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("admin/login.html", form=form, next=target), status


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    """POST only, with CSRFProtect checking the token: another site cannot log anyone out."""
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("accounts.login"))


def guard_admin_paths() -> ResponseReturnValue | None:
    """Every request under the admin's URL needs a logged-in admin."""
    prefix = current_app.extensions["pixcrawler_admin"].url
    under_admin = request.path == prefix or request.path.startswith(prefix + "/")
    if under_admin and not is_admin():
        return refuse()
    return None


def init_auth(app: Flask) -> None:
    """Sessions, CSRF protection of every POST, the login pages and the guard, on one app."""
    CSRFProtect(app)
    manager = LoginManager()
    manager.session_protection = "strong"
    manager.user_loader(load_user)
    manager.unauthorized_handler(refuse)
    manager.init_app(app)
    app.register_blueprint(bp)
    app.before_request(guard_admin_paths)
