import sys

from pumphost.cli import main

sys.exit(main())
