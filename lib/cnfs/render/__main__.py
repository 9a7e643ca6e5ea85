"""`python -m cnfs.render`: same as `cnfs render`."""

from cnfs.cli import run_as_command
from cnfs.render.cli import main

if __name__ == "__main__":
    run_as_command(main)
