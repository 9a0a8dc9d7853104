"""`python -m tilec ...`: the same as the `tilec` command."""
import sys

from .cli import main

sys.exit(main())
