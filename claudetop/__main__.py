import sys

from claudetop.cli import main

sys.exit(main())
