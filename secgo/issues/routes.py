from flask import render_template
from flask_login import login_required

from . import bp


@bp.get("/issues")
@login_required
def index():
    return render_template("issues/index.html")
