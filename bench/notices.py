"""`python -m bench.notices [--recipients N] [--api-url URL] [--kill-at K]`: the notice
broadcast benchmark, the same as `jiceng notice bench` (the logic lives in
`bot.notice_bench` so the installed command has it too)."""

import sys

from bot.notice_bench import main

if __name__ == "__main__":
    sys.exit(main())
