"""The `slip` command line. Each subcommand lives in the module that owns the concept; this file only routes.

A subcommand module provides `HELP` (one line), `add_arguments(parser)` and `run(args) -> int | None`. Modules are
imported only when their subcommand runs, so `slip --help` stays fast.

A problem the user can fix (a `UserError`, or arguments argparse refuses) is printed as one line,
`slip <command>: error: <problem and fix>`, with exit status 2; `--debug` adds the traceback. Any other exception
is a bug and keeps its traceback.
"""

import argparse
import importlib
import sys

from slip_sensor.errors import exit_status

SUBCOMMANDS = {
    "build-corpus": "slip_sensor.data.build_corpus_cli",
    "caption": "slip_sensor.recording_cli.caption",
    "classify": "slip_sensor.recording_cli.classify",
    "convert-reference": "slip_sensor.convert_reference",
    "demo": "slip_sensor.demo",
    "embed": "slip_sensor.recording_cli.embed",
    "evaluate": "slip_sensor.evaluation.cli",
    "export": "slip_sensor.hub_export",
    "export-onnx": "slip_sensor.onnx.export",
    "index": "slip_sensor.search.index_cli",
    "push": "slip_sensor.hub_push",
    "search": "slip_sensor.search.search_cli",
}
DEBUG_HELP = "show the traceback of user errors too"


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, reporting refused arguments in the same one line as every other user error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (`{self.prog} --help` lists the options)\n")


def positive_int(value: str) -> int:
    """argparse type: an integer ≥ 1 (counts, sizes)."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _load(module_name: str):
    return importlib.import_module(module_name)


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="slip", description="SLIP: language-aligned sensor models.")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, module_name in SUBCOMMANDS.items():
        if name == chosen:
            module = _load(module_name)
            sub = subparsers.add_parser(name, help=module.HELP, description=module.HELP)
            module.add_arguments(sub)
            # also after the command; SUPPRESS keeps a `slip --debug COMMAND` from being reset to False
            sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
            sub.set_defaults(_run=module.run)
        else:
            subparsers.add_parser(name, help=f"(run `slip {name} --help`)", add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0 if args.command is None else 2
    return exit_status(lambda: args._run(args), f"slip {args.command}", args.debug)


if __name__ == "__main__":
    sys.exit(main())
