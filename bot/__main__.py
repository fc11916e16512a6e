"""python -m bot: Rapport's command line (the review dashboard's users and read model; see bot/review/cli.py)."""

import sys

from bot.review.cli import main

if __name__ == "__main__":
    sys.exit(main())
