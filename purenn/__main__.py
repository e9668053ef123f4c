"""`python -m purenn` and the `purenn` script: the command line (see purenn.cli)."""

import sys


def run():
    """Start the command line; Ctrl-C while it starts is one line, status 130."""
    try:
        from .cli import main
    except KeyboardInterrupt:
        print("\npurenn: interrupted", file=sys.stderr)
        return 130
    return main()


if __name__ == "__main__":
    sys.exit(run())
