"""What every `rocketpy admin` subcommand is: mqadmin's SubCommand (tools.command.SubCommand) in Python.

A subcommand has mqadmin's NAME and HELP, declares mqadmin's short and long options in `add_arguments`, does its
requests in `run` (returning plain data) and prints that data with `render`, reproducing the `printf` layout of the
Java command so that scripts parsing mqadmin output work unchanged.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, ClassVar, TextIO

from rocketpy.client.admin import AdminClient


class SubCommand:
    NAME: ClassVar[str]
    HELP: ClassVar[str]

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """mqadmin's buildCommandlineOptions (the common -n/-h are added by the caller)."""

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        raise NotImplementedError

    def render(self, data: Any, out: TextIO) -> None:
        """Print what `run` returned; by default the lines it built, already in mqadmin's layout."""
        out.write("".join(data))

    def repeat_every(self, args: argparse.Namespace) -> float | None:
        """Seconds between rounds for commands that print again until interrupted (clusterList -i); None: once."""
        return None


def java_str(value: Any) -> str:
    """String.valueOf: booleans lower case, null as "null"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def printf(out: TextIO, fmt: str, *args: Any) -> None:
    """Java's printf for the conversions mqadmin uses (%s %d %-Ns %Nd %.Nf %n)."""
    converted = tuple(a if isinstance(a, int | float) and not isinstance(a, bool) else java_str(a) for a in args)
    out.write(fmt.replace("%n", "\n") % converted)


def front_at_least(text: str | None, size: int) -> str:
    """UtilAll.frontStringAtLeast: at most `size` leading characters."""
    text = java_str(text)
    return text[:size] if len(text) > size else text


def perm_to_string(perm: int) -> str:
    """PermName.perm2String."""
    return ("R" if perm & 4 else "-") + ("W" if perm & 2 else "-") + ("X" if perm & 1 else "-")


def required(parser: argparse.ArgumentParser, short: str, long: str, help_text: str) -> None:
    parser.add_argument(f"-{short}", f"--{long}", dest=long, required=True, help=help_text)


def optional(parser: argparse.ArgumentParser, short: str, long: str, help_text: str, flag: bool = False) -> None:
    if flag:
        parser.add_argument(f"-{short}", f"--{long}", dest=long, action="store_true", help=help_text)
    else:
        parser.add_argument(f"-{short}", f"--{long}", dest=long, help=help_text)


Registry = dict[str, Callable[[], SubCommand]]
