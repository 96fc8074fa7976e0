import sys

from components.mutation.cli import main

sys.exit(main())
