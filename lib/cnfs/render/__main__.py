"""`python -m cnfs.render`: same as `cnfs render`."""

import sys

from cnfs.render.cli import main

if __name__ == "__main__":
    sys.exit(main())
