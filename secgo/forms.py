"""Form helpers shared by every blueprint."""
from wtforms import SelectChoice


def choices(pairs) -> list[SelectChoice]:
    """SelectField choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]
