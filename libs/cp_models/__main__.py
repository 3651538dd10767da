import sys

from cp_models.cli import main

sys.exit(main())
