"""Shorthands for the expected statuses of each role."""

ROLES = ("anon", "producer", "customer", "coordinator", "admin", "other_producer")


def everyone(status):
    return {role: status for role in ROLES}


def logged_in(status, anon=302):
    return {**everyone(status), "anon": anon}


def staff_only(ok=200):
    return {**logged_in(403), "coordinator": ok, "admin": ok}


def api(status, anon=401):
    return {**everyone(status), "anon": anon}
