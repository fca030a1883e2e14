import sys

from kstor.cli import main

sys.exit(main())
