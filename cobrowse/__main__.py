import sys

from cobrowse.cli.main import main

sys.exit(main())
