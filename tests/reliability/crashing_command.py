"""A `slip` subcommand whose `run` has a bug, for checking that bugs keep their traceback."""

HELP = "Fails with a bug."


def add_arguments(parser):
    pass


def run(args):
    return {}["missing"]  # a KeyError: a bug, not a problem the user can fix
