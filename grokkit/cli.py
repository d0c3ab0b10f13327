"""The ``grokkit`` command: list and reproduce the papers' experiments.

    grokkit list
    grokkit reproduce NAME [--quick | --size {smoke,quick,full}] [--device cuda] [--out DIR] [--seed N]
                           [--seeds N] [--vectorize auto|on|off] [--resume]
    grokkit fidelity [NAME ...] [--size quick] [--seeds 5] [--out runs/fidelity] [--no-run] [--docs PATH]

``python -m grokkit`` is the same command.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

#: The experiment ``grokkit list`` puts first: a run that groks in under a minute on a CPU.
QUICK_START = "modular_addition_groks_in_a_minute"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grokkit", description="Reproduce the grokking papers' figures with grokkit.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("list", help="list the experiments")
    reproduce = commands.add_parser(
        "reproduce", help="run one experiment; write progress.csv, summary.json and PNG figures")
    reproduce.add_argument("name", help="experiment name (see `grokkit list`)")
    sizes = reproduce.add_mutually_exclusive_group()
    sizes.add_argument("--quick", action="store_true",
                       help="reduced version that fits a 2-core CPU in minutes (same as --size quick)")
    sizes.add_argument("--size", choices=("smoke", "quick", "full"), default=None,
                       help="full: the paper's setting (default); quick; smoke: seconds, for tests")
    reproduce.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")
    reproduce.add_argument("--out", default=None, help="output folder (default: runs/NAME)")
    reproduce.add_argument("--seed", type=int, default=0, help="seed of data split and runs (default 0)")
    reproduce.add_argument("--seeds", type=int, default=1,
                           help="run seeds SEED..SEED+N-1; headline numbers as mean, 95%% interval and "
                                "per-seed values (default 1)")
    reproduce.add_argument("--vectorize", choices=("auto", "on", "off"), default="auto",
                           help="experiments that sweep through grokkit.Sweep: stack their runs into one "
                                "batched model (on), use joblib (off) or decide (auto, default)")
    reproduce.add_argument("--quiet", action="store_true", help="no progress bars")
    reproduce.add_argument("--resume", action="store_true",
                           help="continue an interrupted run in --out from its checkpoints")
    table = commands.add_parser(
        "fidelity", help="reproduce every experiment over seeds; write fidelity.md and fidelity.csv")
    table.add_argument("names", nargs="*", help="experiments (default: all of `grokkit list`)")
    table.add_argument("--size", choices=("smoke", "quick", "full"), default="quick",
                       help="size of every reproduction (default quick)")
    table.add_argument("--seeds", type=int, default=5,
                       help="seeds per experiment (default 5, as Clauw et al.)")
    table.add_argument("--seed", type=int, default=0, help="first seed and the data split's (default 0)")
    table.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")
    table.add_argument("--out", default="runs/fidelity",
                       help="folder of the reproductions and the table (default runs/fidelity)")
    table.add_argument("--no-run", action="store_true",
                       help="tabulate the finished reproductions in --out only; train nothing")
    table.add_argument("--docs", default=None, metavar="PATH",
                       help="also write the RST fidelity page (e.g. docs/fidelity.rst)")
    table.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def _fidelity(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """``grokkit fidelity``: flags checked before torch is imported, then the table."""
    from grokkit._validation import check_number, check_output_dir

    try:
        check_number("--seed", args.seed, low=0, high=2**32 - 1, integer=True)
        check_number("--seeds", args.seeds, low=1, integer=True)
        check_output_dir("--out", args.out)
        if args.docs is not None:
            docs = Path(args.docs)
            if docs.is_dir() or not docs.parent.is_dir():
                raise ValueError(f"--docs={args.docs!r} must be a file in an existing folder "
                                 f"(e.g. docs/fidelity.rst).")
    except (TypeError, ValueError) as exc:
        _error(parser, str(exc))
    from grokkit.experiments import available_experiments
    from grokkit.experiments._fidelity import fidelity

    unknown = [n for n in args.names if n not in available_experiments()]
    if unknown:
        _error(parser, f"unknown experiment(s) {unknown}. Valid names: {', '.join(available_experiments())}.")
    table = fidelity(args.out, names=args.names or None, size=args.size, seeds=args.seeds, seed=args.seed,
                     device=args.device, verbose=0 if args.quiet else 1, run=not args.no_run,
                     docs=args.docs)
    print(f"wrote {args.out}/fidelity.md and {args.out}/fidelity.csv"
          + (f" and {args.docs}" if args.docs else "")
          + f": {table['experiment'].nunique()} experiments, {len(table)} numbers")
    return 0


def _check_flags(args: argparse.Namespace) -> None:
    """The ``reproduce`` flags that need no torch: ``--seed`` and ``--out``.

    They run before the experiments (and torch) are imported, so a bad flag
    exits within milliseconds; ``--device`` is checked once torch is loaded.
    """
    from grokkit._validation import check_number, check_output_dir

    check_number("--seed", args.seed, low=0, high=2**32 - 1, integer=True)
    check_number("--seeds", args.seeds, low=1, integer=True)
    check_output_dir("--out", args.out if args.out is not None else f"runs/{args.name}")


def _error(parser: argparse.ArgumentParser, message: str) -> None:
    """argparse's error line (``prog: error: ...``) and exit status 2, without the usage block."""
    parser.exit(2, f"{parser.prog}: error: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``grokkit`` console script; returns the exit status.

    Bad flags, an unknown experiment and an unusable ``--out`` exit with status
    2 and one line on stderr before any training; a run whose files cannot be
    moved into ``--out`` exits with status 1 naming the folder that keeps them.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "fidelity":
        return _fidelity(parser, args)
    if args.command == "reproduce":
        try:
            _check_flags(args)
        except (TypeError, ValueError) as exc:
            _error(parser, str(exc))
    from grokkit._interrupts import multi_run
    from grokkit._validation import resolve_device
    from grokkit.experiments import ResultsNotMoved, available_experiments, get_experiment, reproduce

    if args.command == "list":
        try:
            print(f"Start here (under a minute on one CPU thread): grokkit reproduce {QUICK_START} --quick\n",
                  flush=True)
            for name in available_experiments():
                experiment = get_experiment(name)
                print(f"{name}\n    {experiment.title}\n    {experiment.paper}, {experiment.figure}",
                      flush=True)
        except BrokenPipeError:  # `grokkit list | head`: the reader left; stop quietly, as Unix tools do
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    if args.name not in available_experiments():
        valid = ", ".join(available_experiments())
        _error(parser, f"unknown experiment {args.name!r}. Valid names: {valid}.")
    try:
        resolve_device(args.device, name="--device")
    except (TypeError, ValueError) as exc:
        _error(parser, str(exc))
    size = "quick" if args.quick else (args.size or "full")

    def hint() -> str:
        out = args.out or f"runs/{args.name}"
        flag = " --quick" if args.quick else (f" --size {args.size}" if args.size else "")
        flag += f" --seeds {args.seeds}" if args.seeds != 1 else ""
        flag += f" --vectorize {args.vectorize}" if args.vectorize != "auto" else ""
        flag += f" --device {args.device}" if args.device != "cpu" else ""
        return (f"{parser.prog}: interrupted; the runs so far are checkpointed in {out}/checkpoints. "
                f"Continue with: grokkit reproduce {args.name}{flag} --out {out} --seed {args.seed} --resume")

    try:
        vectorize = {"auto": "auto", "on": True, "off": False}[args.vectorize]
        with multi_run(hint):  # the one resume hint printed (the analyzers' inside stay silent)
            summary = reproduce(args.name, size=size, out=args.out, seed=args.seed, device=args.device,
                                verbose=0 if args.quiet else 1, resume=args.resume, seeds=args.seeds,
                                vectorize=vectorize)
    except ResultsNotMoved as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    print(f"{args.name} ({size}, {summary['seconds']} s) on {summary.get('dataset', '')}")
    for key, value in summary.get("headline", {}).items():
        print(f"  {key}: {value}")
    if "verdict" in summary:
        print(f"verdict: {summary['verdict']['label']}: {summary['verdict']['why']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
