"""The `slip` command line. Each subcommand lives in the module that owns the concept; this file only routes.

A subcommand module provides `HELP` (one line), `add_arguments(parser)` and `run(args) -> int | None`. Modules are
imported only when their subcommand runs, so `slip --help` stays fast.
"""

import argparse
import importlib
import sys

SUBCOMMANDS = {
    "build-corpus": "slip_sensor.data.build_corpus_cli",
    "convert-reference": "slip_sensor.convert_reference",
    "demo": "slip_sensor.demo",
    "evaluate": "slip_sensor.evaluation.cli",
    "export": "slip_sensor.hub_export",
    "push": "slip_sensor.hub_push",
}


def _load(module_name: str):
    return importlib.import_module(module_name)


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="slip", description="SLIP: language-aligned sensor models.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, module_name in SUBCOMMANDS.items():
        if name == chosen:
            module = _load(module_name)
            sub = subparsers.add_parser(name, help=module.HELP, description=module.HELP)
            module.add_arguments(sub)
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
    return int(args._run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
