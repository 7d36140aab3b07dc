"""python -m symderive: the command line (see symderive.cli)."""
import sys

from .cli import main

sys.exit(main())
