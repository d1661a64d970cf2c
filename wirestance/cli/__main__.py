import sys

from wirestance.cli import main

sys.exit(main())
