from flask import render_template

from ..authz import roles_required
from . import bp


@bp.get("/coordinator")
@roles_required("coordinator", "admin")
def dashboard():
    return render_template("coordinator/dashboard.html")
