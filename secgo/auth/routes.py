from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..extensions import db, limiter
from ..i18n.locale import use_page_language
from ..inputs import safe_next
from ..models import ApiToken
from ..channels.routes import settings_panel as channels_panel
from ..push.routes import settings_panel
from . import bp, services, throttle
from .forms import ApiTokenForm, ChangePasswordForm, LoginForm, SetPasswordForm, SettingsForm


# Log-in throttling (secgo/auth/throttle.py): failed attempts only, per address and per login;
# a browser that logged in to that login before counts against its own device cookie.
@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(throttle.login_limit, methods=["POST"], key_func=throttle.address_key,
               exempt_when=throttle.is_trusted_device)
@limiter.limit(throttle.login_limit, methods=["POST"], key_func=throttle.login_key)
@throttle.count_failures_only
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.login.data, form.password.data)
        if user is None:
            db.session.commit()  # the failed login's audit event
            form.password.errors.append(_("Wrong login or password."))
        else:
            services.start_login(user, request.user_agent.string)
            db.session.commit()
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    return render_template("auth/login.html", form=form), (200 if not form.errors else 401 if form.password.errors else 422)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:  # ends this sign-in on the server: both its cookies die
        services.end_login(current_user._get_current_object())
        db.session.commit()
    logout_user()
    flash(_("You are logged out."), "info")
    response = redirect(url_for("auth.login"))
    # Tells the service worker to forget this user's saved pages.
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


@bp.route("/invite/<token>", methods=["GET", "POST"])
@limiter.limit(throttle.login_limit, methods=["POST"])
def redeem(token):
    invite = services.find_link(token)
    if invite is None:
        return render_template("auth/link_invalid.html"), 404
    # The first screen a new person sees is in the language their coordinator chose for them
    # (their phone may say English); the language switcher on the page still changes it.
    use_page_language(invite.user.locale, invite.user.timezone)
    form = SetPasswordForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:  # whoever was signed in on this device is no more
            services.end_login(current_user._get_current_object())
            logout_user()
        user = services.redeem_link(invite, form.password.data)
        services.start_login(user, request.user_agent.string)
        db.session.commit()
        login_user(user, remember=True)
        with force_locale(user.locale):  # the next page is in the person's own language
            flash(_("Your password is set. Welcome to SEC GO!"), "success")
        return redirect(url_for("main.index"))
    return render_template("auth/redeem.html", form=form, invite=invite)


@bp.route("/settings", methods=["GET", "POST"])
@login_required
# A stolen session must not guess the current password without end (then change it).
@limiter.limit(throttle.login_limit, methods=["POST"], key_func=throttle.password_check_key,
               exempt_when=throttle.not_a_password_check)
def settings():
    action = request.form.get("action") if request.method == "POST" else None

    def data_for(name):
        return request.form if action == name else None

    form = SettingsForm(formdata=data_for("profile"), obj=current_user, prefix="profile")
    pw_form = ChangePasswordForm(formdata=data_for("password"), prefix="pw")
    token_form = ApiTokenForm(formdata=data_for("token"), prefix="token")
    new_token = None
    if action:
        if action == "profile" and form.validate():
            current_user.display_name = form.display_name.data.strip()
            current_user.locale = form.locale.data
            current_user.timezone = form.timezone.data
            db.session.commit()
            flash(_("Settings saved."), "success")
            return redirect(url_for("auth.settings"))
        if action == "password" and pw_form.validate():
            user = current_user._get_current_object()  # login_user needs the user, not the proxy
            if not user.check_password(pw_form.current.data):
                pw_form.current.errors.append(_("This is not your current password."))
            else:
                remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
                services.change_password(user, pw_form.password.data)  # ends every credential
                services.start_login(user, request.user_agent.string)
                db.session.commit()
                login_user(user, remember=remembered)  # this device only, with a fresh sign-in
                flash(_("Password changed. Your other devices are logged out and your API tokens "
                        "no longer work."), "success")
                return redirect(url_for("auth.settings"))
        if action == "saver":  # a checkbox: ticked or not, nothing else to check
            current_user.data_saver = request.form.get("data_saver") == "on"
            db.session.commit()
            flash(_("Data saver is on.") if current_user.data_saver else _("Data saver is off."), "success")
            return redirect(url_for("auth.settings") + "#saver")
        if action == "token" and token_form.validate():
            new_token = services.create_api_token(current_user, token_form.name.data)
            db.session.commit()
            token_form.name.data = ""
        if action == "revoke":
            try:
                token_id = int(request.form.get("token_id", ""))
            except ValueError:
                abort(400)
            if not services.revoke_api_token(current_user, token_id):
                abort(404)
            db.session.commit()
            flash(_("Token revoked."), "success")
            return redirect(url_for("auth.settings"))
    status = 422 if (form.errors or pw_form.errors or token_form.errors) else 200
    return settings_page(form, pw_form, token_form, new_token=new_token, status=status)


def settings_page(form=None, pw_form=None, token_form=None, *, new_token=None, status=200,
                  channel_errors=None, channel_values=None):
    """The settings page; a refused Telegram or SMS form (secgo/channels) shows it again."""
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == current_user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.id)
    ).all()
    return render_template(
        "auth/settings.html", form=form or SettingsForm(formdata=None, obj=current_user, prefix="profile"),
        pw_form=pw_form or ChangePasswordForm(formdata=None, prefix="pw"),
        token_form=token_form or ApiTokenForm(formdata=None, prefix="token"),
        tokens=tokens, new_token=new_token, push_panel=settings_panel(current_user),
        channels_panel={**channels_panel(current_user), "errors": channel_errors or {},
                        "typed": channel_values or {}},
    ), status
